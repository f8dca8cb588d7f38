"""``LocalJobs``: modules' ``scheduler_register`` callbacks in the process hosting the module.

DP³ runs every callback on each worker's own scheduler: its main use is reloading rules or
shared state that the same process's hooks then use. streamcore's ingestion and snapshot
workers do the same with ``LocalJobs``: the role's loop calls ``run_due()`` where it
handles control messages (``RoleContext.poll_control``: between batches or polls, on the
thread that runs the hooks), so a callback and a hook never run at the same time and the
state a callback reloads needs no lock. The ``streamcore scheduler`` runs the same
callbacks on its own thread pool (``scheduler.py``: ``per_replica`` jobs), as before.

Timing: a fire time is taken when the loop next calls ``run_due()`` (at most a batch
late); fire times missed meanwhile collapse into one run (APScheduler's ``coalesce``), and
none is skipped for being late: lateness here comes from the batch in hand, not from an
overloaded scheduler. A callback that raises is logged with its name and counted (in the
role's ``streamcore_scheduler_job_runs_total``, as in the scheduler); the next fire time
runs as usual.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from streamcore.module.schedule import ScheduledJob
from streamcore.schedule.jobs import module_jobs
from streamcore.schedule.scheduler import Job, JobObserver

log = logging.getLogger(__name__)


class LocalJobs:
    """Cron jobs run inline by whoever calls ``run_due()`` (see the module docstring)."""

    def __init__(
        self, jobs: Iterable[Job], clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.jobs = [job for job in jobs if job.schedule is not None]
        self.clock = clock
        self.observer: JobObserver | None = None
        """Told each run's outcome and duration (the role's ``JobMetrics``)."""
        now = clock()
        self._due = {job.name: job.schedule.next_after(now) for job in self.jobs if job.schedule}
        self.stats: Counter[tuple[str, str]] = Counter()
        """(job name, outcome) -> count; outcomes: ran, failed."""

    def run_due(self) -> None:
        """Run every job whose fire time has come, once, on the calling thread."""
        if not self.jobs:
            return
        now = self.clock()
        for job in self.jobs:
            if self._due[job.name] > now:
                continue
            assert job.schedule is not None
            self._due[job.name] = job.schedule.next_after(now)
            started = time.perf_counter()
            try:
                job.run()
            except Exception:
                outcome = "failed"
                log.exception("scheduled callback %s failed", job.name)
            else:
                outcome = "ran"
            self.stats[job.name, outcome] += 1
            if self.observer is not None:
                self.observer.job_done(job.name, outcome, time.perf_counter() - started)

    def count(self, name_part: str, outcome: str) -> int:
        """Runs with ``outcome`` of the jobs whose name contains ``name_part``."""
        return sum(
            n for (name, seen), n in self.stats.items() if name_part in name and seen == outcome
        )


def local_module_jobs(
    jobs: Iterable[ScheduledJob], clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> LocalJobs:
    """The callbacks a process hosting the modules runs itself (all but
    ``once_per_cluster`` ones and ``scheduler_register_once``, which the scheduler runs)."""
    return LocalJobs(module_jobs(job for job in jobs if job.local), clock)
