"""``Scheduler``: timed jobs of a ``streamcore scheduler`` process, once per cluster.

Every replica runs the same jobs on the same schedules. At each fire time every replica
tries to claim the slot (``ClaimStore``: job name + fire time, a Cassandra LWT); exactly one
wins and runs the job, the others skip it. A job marked ``per_replica`` skips the claim
and runs in every replica (what DP³ does for every job, since it runs one scheduler per
worker process). Jobs without a schedule (``scheduler_register_once``) run once when each
replica starts.

APScheduler's rules, as DP³ configures it: a job still running at its next fire time is
not started again (``max_instances=1``), a fire time missed by more than the job's
``misfire_grace`` is skipped, and several missed fire times collapse into none (coalesce).

Time is injected (``Clock``): the loop reads the time and waits only through it, so tests
drive the scheduler with a fake clock instead of sleeping; fire times come from
APScheduler's ``CronTrigger`` (``CronSchedule``).

Error policy: a job that raises (or whose claim fails) is logged with its name and counted
in ``stats``; the scheduler goes on with the next fire time. Nothing a job does can stop
the loop; only ``stop()`` does.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from streamcore.schedule.cron import CronSchedule

log = logging.getLogger(__name__)

CLAIM_KEEP_MIN_SECONDS = 3600


class JobObserver(Protocol):
    """Told every fire time's outcome (``stats``' outcomes) and, for a job that ran or
    failed here, its duration; called on the job's thread or the loop's."""

    def job_done(self, job: str, outcome: str, seconds: float | None) -> None: ...


class Clock(Protocol):
    """Where the loop reads the time and waits between rounds."""

    def now(self) -> datetime: ...

    def wait(self, stop: threading.Event, seconds: float) -> None:
        """Return after ``seconds``, or sooner once ``stop`` is set."""


class SystemClock:
    """The wall clock (UTC) and a real, interruptible wait."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait(self, stop: threading.Event, seconds: float) -> None:
        stop.wait(seconds)


class SlotClaims(Protocol):
    """``ClaimStore``'s contract: True for exactly one caller per ``(job, slot)``."""

    def claim(self, job: str, slot: str, keep_seconds: int = ...) -> bool: ...


@dataclass(frozen=True)
class Job:
    """A timed callable. ``name`` must be the same in every replica: it names the claim."""

    name: str
    run: Callable[[], object]
    schedule: CronSchedule | None = None
    per_replica: bool = False
    misfire_grace: timedelta = timedelta(seconds=1)


class Scheduler:
    """Runs ``jobs`` on a small thread pool until ``stop()``; ``claims`` decides cluster-once."""

    def __init__(
        self,
        jobs: Iterable[Job],
        claims: SlotClaims,
        *,
        threads: int = 4,
        clock: Clock | None = None,
        observer: JobObserver | None = None,
    ) -> None:
        self.jobs = list(jobs)
        self.observer = observer
        names = [job.name for job in self.jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"scheduled job names must be unique: {names}")
        self.claims = claims
        self.clock = clock or SystemClock()
        self.stats: Counter[tuple[str, str]] = Counter()
        """(job name, outcome) -> count; outcomes: ran, failed, claimed_elsewhere, busy, missed."""
        self._threads = threads
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self.heartbeat: Callable[[], object] = lambda: None
        """Called by the loop every round, at least once a second (liveness)."""

    def run(self) -> None:
        """Fire jobs until ``stop()``; then wait for the jobs in flight to finish."""
        with ThreadPoolExecutor(self._threads, thread_name_prefix="scheduler") as pool:
            now = self.clock.now()
            upcoming: dict[str, datetime] = {}
            for job in self.jobs:
                if job.schedule is None:
                    self._start(pool, job, now, claim=False)
                else:
                    upcoming[job.name] = job.schedule.next_after(now)
            while not self._stopping.is_set():
                self.heartbeat()
                self.clock.wait(self._stopping, self._fire_due(pool, upcoming))

    def _fire_due(self, pool: ThreadPoolExecutor, upcoming: dict[str, datetime]) -> float:
        """Fire the jobs whose time has come; returns the seconds to wait (at most 1)."""
        now = self.clock.now()
        for job in self.jobs:
            slot = upcoming.get(job.name)
            if slot is not None and slot <= now:
                assert job.schedule is not None
                upcoming[job.name] = job.schedule.next_after(max(slot, now))
                self._fire(pool, job, slot, now)
        if not upcoming:
            return 1.0
        return min(max((min(upcoming.values()) - self.clock.now()).total_seconds(), 0.0), 1.0)

    def stop(self) -> None:
        """Fire nothing more; ``run()`` returns when the jobs in flight are done."""
        self._stopping.set()

    def wait_idle(self, timeout: float) -> bool:
        """True once no job is running (a fake clock steps on from there), False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._running, timeout)

    def count(self, name: str, outcome: str) -> int:
        with self._lock:
            return self.stats[name, outcome]

    def _fire(self, pool: ThreadPoolExecutor, job: Job, slot: datetime, now: datetime) -> None:
        if now - slot > job.misfire_grace:
            log.warning("job %s missed its fire time %s by %s", job.name, slot, now - slot)
            self._tally(job.name, "missed")
            return
        self._start(pool, job, slot, claim=not job.per_replica)

    def _start(self, pool: ThreadPoolExecutor, job: Job, slot: datetime, claim: bool) -> None:
        with self._lock:
            busy = job.name in self._running
            self._running.add(job.name)
        if busy:
            self._tally(job.name, "busy")
            log.warning("job %s still running at %s; this fire time is skipped", job.name, slot)
            return
        pool.submit(self._execute, job, slot, claim)

    def _execute(self, job: Job, slot: datetime, claim: bool) -> None:
        started = time.perf_counter()
        try:
            if claim and not self.claims.claim(
                f"schedule:{job.name}", slot.isoformat(), _keep_seconds(job, slot)
            ):
                self._tally(job.name, "claimed_elsewhere")
                return
            job.run()
            self._tally(job.name, "ran", time.perf_counter() - started)
            log.debug("job %s (%s) took %.3f s", job.name, slot, time.perf_counter() - started)
        except Exception:
            self._tally(job.name, "failed", time.perf_counter() - started)
            log.exception("scheduled job %s failed at its fire time %s", job.name, slot)
        finally:
            with self._idle:
                self._running.discard(job.name)
                self._idle.notify_all()

    def _tally(self, name: str, outcome: str, seconds: float | None = None) -> None:
        with self._lock:
            self.stats[name, outcome] += 1
        if self.observer is not None:
            self.observer.job_done(name, outcome, seconds)


def _keep_seconds(job: Job, slot: datetime) -> int:
    """Claims outlive any replica's attempt at the same slot (grace, clock skew) by far."""
    interval = job.schedule.interval_at(slot) if job.schedule is not None else timedelta()
    return int(max(CLAIM_KEEP_MIN_SECONDS, 3 * interval.total_seconds()))
