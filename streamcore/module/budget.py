"""``HookBudget``: a hook call that runs past its time budget is interrupted.

Python cannot kill a thread, so the call is interrupted from inside, by one of two means,
chosen per call by the thread it runs on:

- **main thread** (``streamcore worker`` and ``streamcore snapshots`` run their loops there):
  ``SIGALRM`` from ``setitimer(ITIMER_REAL)``. Its handler raises in the hook, which also
  breaks ``time.sleep``, socket waits, lock waits and pure-Python loops. A C call that
  retries on ``EINTR`` without running Python's signal handlers, or a long C computation,
  is not interrupted until it returns. The timer is armed lazily: a call only sets it
  when it is due before the pending timer goes off (most calls cost no system call);
  when it goes off with no call over budget, the handler sets it for the earliest
  deadline, or leaves it off when nothing runs.
- **other threads** (tests often run a worker in a thread): one watchdog thread per process
  sends the over-budget thread an asynchronous exception
  (``ctypes.pythonapi.PyThreadState_SetAsyncExc``). It is raised at the thread's next
  Python bytecode, so a hook blocked in a C call (``time.sleep`` included) is interrupted
  only when that call returns.

The exception raised in the hook is ``BudgetExpired``, a ``BaseException``, so a hook's
``except Exception`` does not swallow it; ``call`` turns it into ``OverBudget`` for the
engine. A hook that swallows even that is interrupted again every budget while it runs, and
``call`` still reports ``OverBudget`` when it returns. What cannot be interrupted shows in
``busy_since``: the health check fails the process's liveness when one call has run for
several budgets (``streamcore.metrics.server.Health.watch_busy``).

Timers nest: calls inside calls (of any ``HookBudget``) each keep their own deadline, and a
``SIGALRM`` timer someone else had armed before the first call is restored, with its
handler, when the last call ends (its handler is called if it falls due meanwhile).
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # (no stub) the C module under signal
import atexit
import ctypes
import signal
import threading
import time
import traceback
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

_EARLY = 0.0001
"""A timer firing this close to a deadline counts as on time (clocks differ slightly)."""
_MIN_DELAY = 0.0005
_NEVER = float("inf")
"""The shortest delay a timer is armed for (0 would disarm it)."""
_get_ident = threading.get_ident
_monotonic = time.monotonic
_SIGALRM = signal.SIGALRM
_getsignal: Callable[[int], Any] = _signal.getsignal
"""The C function under ``signal.getsignal``: 100 times faster (no enum conversion), and
no Python code the alarm could go off in."""


class BudgetExpired(BaseException):  # noqa: N818 (raised in hooks: not an Exception, on purpose)
    """Raised inside an over-budget hook; caught by ``HookBudget.call`` (never escapes it)."""


class OverBudget(Exception):  # noqa: N818 (a condition, reported by the engines)
    """A hook call ran past its budget and was interrupted (or returned only after it).

    Attributes:
        budget: the budget, in seconds
        elapsed: how long the call ran
        where: the hook's line that was running when it was interrupted (``file:line in f``)
    """

    def __init__(self, budget: float, elapsed: float, where: str) -> None:
        super().__init__(f"over its time budget of {budget:g} s (ran {elapsed:.3g} s)")
        self.budget = budget
        self.elapsed = elapsed
        self.where = where


class _Call:
    """One running call: when it started, when it is due, whether it was interrupted."""

    __slots__ = ("budget", "deadline", "done", "expired", "seconds", "started", "thread")

    def __init__(self, budget: HookBudget, started: float, thread: int = 0) -> None:
        self.budget = budget
        self.seconds = seconds = budget.seconds
        self.started = started
        self.deadline = started + seconds
        self.thread = thread
        self.expired = self.done = False


class HookBudget:
    """Runs hook calls under a budget of ``seconds`` each (0: no budget, calls run plain).

    One per engine; thread-safe. ``busy_since()`` is for the health check.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._main = threading.main_thread().ident

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)``; ``OverBudget`` if it ran past the budget (what it raised otherwise).

        The hot path (a hook call on the main thread) is written out: on the order of a
        microsecond over the bare call (``bench/hook_budget.py``)."""
        if self.seconds <= 0:
            return fn(*args)
        thread = _get_ident()
        if thread != self._main:
            return self._watched(fn, args, thread)
        alarm = _ALARM
        stack = alarm.stack
        call = _Call(self, _monotonic())
        try:
            try:
                stack.append(call)  # in the try: the timer may go off as soon as it's armed
                if call.deadline < alarm.due or _getsignal(_SIGALRM) is not alarm.on_alarm:
                    alarm.arm(call)
                result = fn(*args)
            finally:
                if stack and stack[-1] is call and not alarm.lent:
                    stack.pop()
                else:
                    alarm.leave(call)
        except BudgetExpired as exc:
            alarm.leave(call)  # again: the exception may have cut the first one short
            if not call.expired:
                raise  # an enclosing call's deadline
            raise self._over(call, exc.__traceback__) from None
        if call.expired:  # the hook swallowed the interruption
            raise self._over(call, None)
        return result

    def _watched(self, fn: Callable[..., Any], args: tuple[Any, ...], thread: int) -> Any:
        """``call`` off the main thread: the watchdog interrupts it."""
        watchdog = _watchdog()
        call = _Call(self, _monotonic(), thread)
        try:
            try:
                watchdog.enter(call)
                result = fn(*args)
            finally:
                watchdog.leave(call)
        except BudgetExpired as exc:
            watchdog.leave(call)  # again: the exception may have cut the first one short
            if not call.expired:
                raise  # an enclosing call's deadline
            raise self._over(call, exc.__traceback__) from None
        if call.expired:
            raise self._over(call, None)
        return result

    def busy_since(self) -> float | None:
        """``time.monotonic()`` when this budget's oldest running call started; None if idle."""
        starts = [c.started for c in (*_ALARM.calls(), *_watched_calls()) if c.budget is self]
        return min(starts) if starts else None

    def _over(self, call: _Call, tb: TracebackType | None) -> OverBudget:
        frames = traceback.extract_tb(tb) if tb is not None else []
        # The innermost frame is this module's signal handler (main thread); skip ours.
        frames = [f for f in frames if f.filename != __file__]
        where = f"{frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
        return OverBudget(self.seconds, time.monotonic() - call.started, where)


class _Alarm:
    """The main thread's calls, interrupted by ``SIGALRM``. Touched only on the main thread
    (the handler runs there too, between bytecodes), so it needs no lock."""

    def __init__(self) -> None:
        self.stack: list[_Call] = []
        self.due = _NEVER
        """When our timer goes off (``time.monotonic()``); a call due later needs no arming."""
        self._theirs: Any = None
        """A Python ``SIGALRM`` handler found installed: given back after our last call."""
        self._their_timer: tuple[float, float] | None = None
        """(deadline, interval) of a timer found pending: given back after our last call."""
        self.on_alarm = self._handler  # one bound method, so ``is`` recognises it
        self.lent = False
        """Whether someone's handler or timer waits to be given back after our last call."""

    def calls(self) -> list[_Call]:
        return list(self.stack)

    def leave(self, call: _Call) -> None:
        stack = self.stack
        if stack and stack[-1] is call:
            stack.pop()
        elif call in stack:
            stack.remove(call)
        else:
            return
        if not stack and self.lent:
            self._give_back()

    def arm(self, call: _Call) -> None:
        """The timer set for the earliest deadline and our handler installed, when ``call``
        is due before the timer goes off or someone installed a handler of theirs since our
        last call. Their handler and pending timer are kept, to be given back."""
        handler = _getsignal(_SIGALRM)
        replaced = handler is not self.on_alarm
        if replaced:
            signal.signal(signal.SIGALRM, self.on_alarm)
            if callable(handler):
                self._theirs = handler
                self.lent = True
        delay, interval = signal.setitimer(signal.ITIMER_REAL, call.seconds)
        now = time.monotonic()
        if delay > 0 and (replaced or self.due == _NEVER):  # a timer that isn't ours
            self._their_timer = (now + delay, interval)
            self.lent = True
        self._rearm(now)

    def _rearm(self, now: float) -> None:
        due = [c.deadline for c in self.stack]
        if self._their_timer is not None:
            due.append(self._their_timer[0])
        if due:
            delay = max(min(due) - now, _MIN_DELAY)
            signal.setitimer(signal.ITIMER_REAL, delay)
            self.due = now + delay
        else:
            self.due = _NEVER  # it went off: nothing pending

    def disarm_at_exit(self) -> None:
        """Our timer off when the process ends: the fast path leaves it armed after the last
        hook call (disarming costs a system call per call), and one going off during
        interpreter shutdown, with our handler gone, ends the process with SIGALRM (142)."""
        if (
            self.due != _NEVER
            and not self.lent
            and threading.current_thread() is threading.main_thread()
        ):
            signal.setitimer(signal.ITIMER_REAL, 0)
            self.due = _NEVER

    def _give_back(self) -> None:
        """Their handler and their timer (if still pending) as they were; ours disarmed."""
        handler, timer = self._theirs, self._their_timer
        self._theirs = self._their_timer = None
        self.due = _NEVER
        self.lent = False
        if handler is not None:
            signal.signal(signal.SIGALRM, handler)
        if timer is not None:
            delay = max(timer[0] - time.monotonic(), _MIN_DELAY)
            signal.setitimer(signal.ITIMER_REAL, delay, timer[1])
        else:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        expired = next((c for c in self.stack if now >= c.deadline - _EARLY), None)
        if expired is not None:
            expired.expired = True
            expired.deadline = now + expired.seconds  # again, if it swallows this one
        timer = self._their_timer
        theirs_due = timer is not None and now >= timer[0] - _EARLY
        if timer is not None and theirs_due:
            self._their_timer = (now + timer[1], timer[1]) if timer[1] else None
        self._rearm(now)
        if theirs_due and callable(self._theirs):
            self._theirs(signum, frame)
        if expired is not None:
            raise BudgetExpired


class _Watchdog:
    """Other threads' calls, watched by one daemon thread that interrupts them with an
    asynchronous exception. It wakes at the earliest deadline, or every quarter of the
    smallest budget seen when idle (a new call is due a whole budget after it starts)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[_Call] = []
        self._tick = 1.0
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="hook-watchdog", daemon=True)
        self._thread.start()

    def calls(self) -> list[_Call]:
        with self._lock:
            return list(self._calls)

    def enter(self, call: _Call) -> None:
        with self._lock:
            self._calls.append(call)
            tick = max(call.seconds / 4, 0.005)
            if tick < self._tick:
                self._tick = tick
                self._wake.set()

    def leave(self, call: _Call) -> None:
        """Ends watching ``call``; clears an exception sent but not yet raised, so it can't
        go off in the engine once the hook has returned."""
        with self._lock:
            if call.done:
                return
            call.done = True
            self._calls.remove(call)
            if call.expired:
                _send(call.thread, None)

    def _watch(self) -> None:
        while True:
            now = time.monotonic()
            wake = now + self._tick
            with self._lock:
                for call in self._calls:
                    if now >= call.deadline - _EARLY:
                        call.expired = True
                        call.deadline = now + call.seconds
                        _send(call.thread, BudgetExpired)
                    wake = min(wake, call.deadline)
            self._wake.wait(max(wake - time.monotonic(), _MIN_DELAY))
            self._wake.clear()


def _send(thread: int, exc: type[BaseException] | None) -> None:
    """Raise ``exc`` in ``thread`` at its next bytecode (None: cancel a pending one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread), ctypes.py_object(exc) if exc is not None else None
    )


_ALARM = _Alarm()
atexit.register(_ALARM.disarm_at_exit)
_WATCHDOG: _Watchdog | None = None
_WATCHDOG_LOCK = threading.Lock()


def _watchdog() -> _Watchdog:
    global _WATCHDOG  # noqa: PLW0603 (one watchdog thread per process, started on first use)
    if _WATCHDOG is None:
        with _WATCHDOG_LOCK:
            if _WATCHDOG is None:
                _WATCHDOG = _Watchdog()
    return _WATCHDOG


def _watched_calls() -> list[_Call]:
    return _WATCHDOG.calls() if _WATCHDOG is not None else []
