"""HookBudget: over-budget calls interrupted on the main thread (SIGALRM) and on other
threads (watchdog, asynchronous exception); nothing goes off once a call has returned;
timers nest and someone else's timer is given back."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from streamcore.module.budget import HookBudget, OverBudget

SHORT = 0.05  # the budget; the hooks below would run for 100 times longer


def spin(seconds: float = 5.0) -> None:
    """Pure Python until ``seconds`` have passed."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def in_thread(fn: Callable[[], Any]) -> Any:
    """``fn()`` on a new thread; its result or the exception it raised."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(fn())
        except BaseException as exc:  # handed back to the test
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    return out[0]


@pytest.fixture(autouse=True)
def no_timer_left() -> Iterator[None]:
    """Our timer may stay armed after a call (it is armed lazily): let it fire on nothing,
    so each test starts with no timer pending."""
    yield
    pending = signal.getitimer(signal.ITIMER_REAL)[0]
    if pending:
        time.sleep(pending + 0.01)


def test_main_thread_sleep_is_interrupted_by_the_alarm() -> None:
    assert threading.current_thread() is threading.main_thread()
    budget = HookBudget(SHORT)

    def sleeper() -> None:
        time.sleep(5)

    with pytest.raises(OverBudget) as caught:
        budget.call(sleeper)
    assert caught.value.budget == SHORT
    assert SHORT <= caught.value.elapsed < 5
    assert "test_hook_budget.py" in caught.value.where and "sleeper" in caught.value.where


def test_main_thread_loop_is_interrupted_even_through_except_exception() -> None:
    budget = HookBudget(SHORT)

    def stubborn() -> str:
        try:
            spin()
        except Exception:  # a hook's catch-all must not swallow the interruption
            return "swallowed"
        return "finished"

    with pytest.raises(OverBudget):
        budget.call(stubborn)


def test_a_hook_that_swallows_the_interruption_is_still_over_budget() -> None:
    budget = HookBudget(SHORT)

    def hostile() -> str:
        try:
            time.sleep(5)
        except BaseException:
            return "done anyway"
        return "slept"

    with pytest.raises(OverBudget):
        budget.call(hostile)


def test_worker_thread_loop_is_interrupted_by_the_watchdog() -> None:
    budget = HookBudget(SHORT)

    def spinner() -> None:
        spin()

    result = in_thread(lambda: budget.call(spinner))
    assert isinstance(result, OverBudget), result
    assert "in spin" in result.where  # the innermost line: the loop spinner called


def test_calls_within_budget_return_and_pass_exceptions_through() -> None:
    budget = HookBudget(SHORT)
    assert budget.call(lambda a, b: a + b, 1, 2) == 3
    with pytest.raises(KeyError):
        budget.call({}.__getitem__, "missing")
    assert in_thread(lambda: budget.call(lambda: "ok")) == "ok"
    assert budget.busy_since() is None


def test_no_budget_means_a_plain_call() -> None:
    budget = HookBudget(0)
    assert budget.call(lambda: signal.getitimer(signal.ITIMER_REAL)[0]) == 0
    assert budget.busy_since() is None


@pytest.mark.parametrize("on_main", [True, False])
def test_nothing_goes_off_after_a_call_returned(on_main: bool) -> None:
    """Calls that end right around their deadline: each returns or is over budget, and
    the interruption never escapes into the caller's code."""
    budget = HookBudget(0.002)
    outcomes: dict[str, int] = {"returned": 0, "over": 0}

    def many() -> None:
        for i in range(300):
            # 1, 1.5 or 2 ms around the deadline, and every fourth call clearly over it (so
            # the run is over budget at least sometimes even on a loaded machine).
            seconds = 0.03 if i % 4 == 3 else 0.001 + i % 3 * 0.0005
            try:
                budget.call(spin, seconds)
                outcomes["returned"] += 1
            except OverBudget:
                outcomes["over"] += 1
            spin(0.0005)  # the caller's own code, where a late interruption would land

    if on_main:
        many()
    else:
        assert in_thread(many) is None
    assert sum(outcomes.values()) == 300
    assert outcomes["over"] > 0


def test_a_short_budget_after_a_long_one_still_holds() -> None:
    """The timer a long budget left pending goes off too late for a short one."""
    assert HookBudget(30).call(lambda: "quick") == "quick"
    with pytest.raises(OverBudget):
        HookBudget(SHORT).call(time.sleep, 5)


def test_busy_since_is_the_running_calls_start() -> None:
    budget = HookBudget(5)
    seen: list[float | None] = []
    before = time.monotonic()
    budget.call(lambda: seen.append(budget.busy_since()))
    assert seen[0] is not None and before <= seen[0] <= time.monotonic()
    assert HookBudget(5).busy_since() is None  # another budget's calls are not its own
    assert budget.busy_since() is None


def test_nested_calls_keep_their_own_deadlines() -> None:
    outer, inner = HookBudget(SHORT), HookBudget(30)

    def nested() -> None:
        inner.call(time.sleep, 5)  # the outer budget runs out first: the outer call is over

    with pytest.raises(OverBudget) as caught:
        outer.call(nested)
    assert caught.value.budget == SHORT

    def inner_slow() -> str:
        with pytest.raises(OverBudget):
            HookBudget(SHORT).call(time.sleep, 5)
        return "outer goes on"

    assert HookBudget(30).call(inner_slow) == "outer goes on"


def test_someone_elses_timer_is_kept_and_given_back() -> None:
    fired: list[float] = []

    def theirs(signum: int, frame: Any) -> None:
        fired.append(time.monotonic())

    previous = signal.signal(signal.SIGALRM, theirs)
    try:
        # Due after our call: still pending afterwards, with their handler.
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        assert HookBudget(SHORT).call(lambda: 1) == 1
        assert signal.getsignal(signal.SIGALRM) is theirs
        assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 0.3
        time.sleep(0.5)
        assert len(fired) == 1

        # Due during our call: their handler runs then, our budget still holds.
        signal.setitimer(signal.ITIMER_REAL, SHORT)
        assert HookBudget(5).call(lambda: time.sleep(0.2) or "slept") == "slept"
        assert len(fired) == 2
        signal.setitimer(signal.ITIMER_REAL, 0.01)
        with pytest.raises(OverBudget):
            HookBudget(0.1).call(time.sleep, 5)
        assert len(fired) == 3
        assert signal.getsignal(signal.SIGALRM) is theirs
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_the_timer_left_armed_after_the_last_call_is_off_when_the_process_ends() -> None:
    """The fast path leaves the SIGALRM timer armed; going off during shutdown (our handler
    gone) it would kill the process with exit code 142 after every test passed."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import atexit, signal, time
        # Registered first, so it runs last: the late stage of a shutdown, handler gone.
        atexit.register(lambda: (signal.signal(signal.SIGALRM, signal.SIG_DFL), time.sleep(0.6)))
        from streamcore.module.budget import HookBudget
        HookBudget(0.3).call(lambda: None)
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 0  # still armed after the call
        """
    )
    done = subprocess.run([sys.executable, "-c", script], timeout=30, check=False)
    assert done.returncode == 0  # 142 (SIGALRM) without the atexit disarm
