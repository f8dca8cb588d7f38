"""``HookFailureLog``: hook failures logged at a bounded rate, per hook.

A broken hook usually fails on every call; a traceback per call would flood the log (and
the disk) while saying nothing new. So for each hook (module, callback, kind) the first
failure is logged in full, with its traceback; later ones are counted, and at most one line
per ``interval`` says how many more failed since when, with the latest message. That line is
written with the first failure after the interval has passed: a hook that stops failing
leaves its last count unlogged. The metrics (``streamcore_hook_failures_total``) count every
failure exactly; the log only has to say what is wrong.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(slots=True)
class _Quiet:
    """A hook's failures since its last log line."""

    logged_at: float
    count: int = 0
    since: float = 0.0
    latest: str = ""


log = logging.getLogger(__name__)


class HookFailureLog:
    """Logs hook failures (of both engines, to this module's logger), at most one line per
    hook per ``interval`` seconds after the first (0: every failure, each with its
    traceback). ``clock`` is monotonic; tests pass their own."""

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._log = log
        self._interval = interval
        self._clock = clock
        self._hooks: dict[tuple[str, str, str], _Quiet] = {}

    def failed(  # noqa: PLR0917 (what a failure line says; one call site per engine)
        self,
        module: str,
        name: str,
        kind: str,
        target: str,
        exc: BaseException,
        traceback: bool = True,
    ) -> None:
        """One failure of hook ``name`` (``kind``) of ``module`` on ``target`` (e.g.
        ``ip/hostname``); ``traceback`` False for a broken contract, where it says nothing."""
        now = self._clock()
        key = (module, name, kind)
        quiet = self._hooks.get(key)
        if quiet is None or self._interval <= 0:
            self._hooks[key] = _Quiet(now)
            self._log.error(
                "Hook %s (%s) of module %s failed on %s: %s",
                name,
                kind,
                module,
                target,
                exc,
                exc_info=exc if traceback else None,
            )
            return
        if quiet.count == 0:
            quiet.since = now
        quiet.count += 1
        quiet.latest = f"on {target}: {exc}"
        if now - quiet.logged_at < self._interval:
            return
        self._log.error(
            "Hook %s (%s) of module %s: %d more failures since %s; latest %s",
            name,
            kind,
            module,
            quiet.count,
            _wall_time(now - quiet.since),
            quiet.latest,
        )
        quiet.logged_at = now
        quiet.count = 0


def _wall_time(ago: float) -> str:
    """The wall-clock time ``ago`` seconds back, for people reading the log."""
    return (datetime.now(UTC) - timedelta(seconds=ago)).isoformat(timespec="seconds")
