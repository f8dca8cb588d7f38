"""The scheduler's jobs from modules' ``scheduler_register`` calls and from config sections.

Job names are the claim keys, so they must come out the same in every replica: a module
job is named by its module, function and job id (ids follow registration order, which
``enabled_modules`` fixes), a platform job by its role.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

from streamcore.module.schedule import ScheduledJob
from streamcore.schedule.cron import CronSchedule
from streamcore.schedule.scheduler import Job


def module_jobs(jobs: Iterable[ScheduledJob]) -> list[Job]:
    """One ``Job`` per ``scheduler_register``/``scheduler_register_once`` registration;
    claimed once per cluster only when registered ``once_per_cluster``."""
    return [
        Job(
            name=f"module:{job.module}:{_function_name(job.func)}#{job.job_id}",
            run=job.run,
            schedule=None if job.once else CronSchedule(job.fields, job.timezone),
            per_replica=not job.once_per_cluster,
            misfire_grace=timedelta(seconds=job.misfire_grace_time),
        )
        for job in jobs
    ]


def platform_job(
    name: str,
    run: Callable[[], object],
    schedule_section: object,
    misfire_grace: timedelta = timedelta(minutes=1),
) -> Job:
    """A job of the platform itself (updater, history manager, garbage collector), once per
    cluster on the schedule of a config section (a ``CronExpression``)."""
    return Job(
        name=f"platform:{name}",
        run=run,
        schedule=CronSchedule.from_section(schedule_section),
        misfire_grace=misfire_grace,
    )


def _function_name(func: Callable[..., object]) -> str:
    return str(getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func)))
