"""``dp3.common.scheduler``: DP³'s APScheduler wrapper is internal; modules register jobs
with ``registrar.scheduler_register`` (run by streamcore's scheduler)."""

from streamcore.common._absent import absent

__getattr__ = absent(
    __name__,
    {
        "Scheduler": "DP³'s per-process APScheduler wrapper; register jobs with "
        "registrar.scheduler_register / scheduler_register_once"
    },
)
