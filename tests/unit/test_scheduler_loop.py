"""Scheduler: once per slot across replicas (through claims), failures counted, loop goes on."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from streamcore.module.registrar import CallbackRegistrar
from streamcore.schedule.cron import CronSchedule
from streamcore.schedule.jobs import module_jobs
from streamcore.schedule.scheduler import Job, Scheduler
from streamcore.testing.config import model_spec_from_dicts

MODEL = {"host": {"entity": {"id": "host", "name": "Host", "snapshot": False}, "attribs": {}}}


class MemoryClaims:
    """ClaimStore's contract in memory (the real one is tested on Cassandra)."""

    def __init__(self) -> None:
        self.taken: set[tuple[str, str]] = set()
        self.lock = threading.Lock()

    def claim(self, job: str, slot: str, keep_seconds: int = 0) -> bool:
        with self.lock:
            if (job, slot) in self.taken:
                return False
            self.taken.add((job, slot))
            return True


class FakeClock:
    """Time that moves only when the loop waits, by what it asked to wait.

    With ``settle`` the jobs already started finish before time moves on (so counts are
    exact); ``on_tick`` sees every step; the scheduler is stopped once ``until`` is reached,
    so fire times at ``until`` and later never fire.
    """

    def __init__(
        self,
        until: timedelta,
        *,
        settle: bool = True,
        on_tick: Callable[[FakeClock], object] = lambda clock: None,
    ) -> None:
        self.time = START
        self.until = START + until
        self.settle = settle
        self.on_tick = on_tick
        self.scheduler: Scheduler | None = None

    def now(self) -> datetime:
        return self.time

    def wait(self, stop: threading.Event, seconds: float) -> None:
        if self.settle and self.scheduler is not None:
            assert self.scheduler.wait_idle(10)
        self.time += timedelta(seconds=seconds)
        self.on_tick(self)
        if self.time >= self.until:
            stop.set()


START = datetime(2025, 1, 1, tzinfo=UTC)
EVERY_SECOND = CronSchedule({"second": "*"})


def scheduler(jobs: list[Job], clock: FakeClock, claims: MemoryClaims | None = None) -> Scheduler:
    clock.scheduler = Scheduler(jobs, claims or MemoryClaims(), clock=clock)
    return clock.scheduler


def run_all(*schedulers: Scheduler) -> None:
    """Each replica's loop on its own thread, as in separate processes, until its clock ends."""
    threads = [threading.Thread(target=s.run, daemon=True) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)


def test_each_fire_time_runs_once_across_two_replicas() -> None:
    runs: list[int] = []
    claims = MemoryClaims()
    replicas = [
        scheduler([Job("tick", lambda: runs.append(1), EVERY_SECOND)], FakeClock(until), claims)
        for until in (timedelta(seconds=6), timedelta(seconds=6))
    ]
    run_all(*replicas)
    slots = [(START + timedelta(seconds=n)).isoformat() for n in range(1, 6)]
    assert sorted(slot for _, slot in claims.taken) == slots
    assert {job for job, _ in claims.taken} == {"schedule:tick"}
    assert len(runs) == sum(r.count("tick", "ran") for r in replicas) == 5
    assert sum(r.count("tick", "claimed_elsewhere") for r in replicas) == 5


def test_per_replica_jobs_run_in_every_replica() -> None:
    claims = MemoryClaims()
    job = Job("local", lambda: None, EVERY_SECOND, per_replica=True)
    replicas = [scheduler([job], FakeClock(timedelta(seconds=4)), claims) for _ in range(2)]
    run_all(*replicas)
    assert [r.count("local", "ran") for r in replicas] == [3, 3]
    assert claims.taken == set()


def test_a_failing_job_is_counted_and_the_scheduler_goes_on() -> None:
    def bad() -> None:
        raise RuntimeError("boom")

    jobs = [Job("bad", bad, EVERY_SECOND), Job("good", lambda: None, EVERY_SECOND)]
    replica = scheduler(jobs, FakeClock(timedelta(seconds=3)))
    run_all(replica)
    assert (replica.count("bad", "failed"), replica.count("good", "ran")) == (2, 2)


def test_a_job_still_running_is_not_started_again() -> None:
    release = threading.Event()

    def release_at_the_end(clock: FakeClock) -> None:
        if clock.time >= clock.until:
            release.set()

    clock = FakeClock(timedelta(seconds=4), settle=False, on_tick=release_at_the_end)
    replica = scheduler([Job("slow", lambda: release.wait(10), EVERY_SECOND)], clock)
    run_all(replica)
    assert (replica.count("slow", "ran"), replica.count("slow", "busy")) == (1, 2)


def test_fire_times_missed_in_a_pause_are_skipped_once_then_it_goes_on() -> None:
    def pause_before_the_second_fire(clock: FakeClock) -> None:
        if clock.time == START + timedelta(seconds=2):
            clock.time += timedelta(minutes=10)  # a GC pause or a suspended VM

    clock = FakeClock(timedelta(minutes=10, seconds=5), on_tick=pause_before_the_second_fire)
    job = Job("tick", lambda: None, EVERY_SECOND, misfire_grace=timedelta(seconds=5))
    replica = scheduler([job], clock)
    run_all(replica)
    # 0:01 ran; the slot due at 0:02, found 10 min late, is one miss (the 600 slots in the
    # pause coalesce into it); then 10:03 and 10:04 run.
    assert (replica.count("tick", "ran"), replica.count("tick", "missed")) == (3, 1)


def test_module_jobs_keep_dp3_arguments_and_run_once_per_cluster_only_when_asked() -> None:
    registrar = CallbackRegistrar(model_spec_from_dicts(MODEL))
    seen: list[tuple[int, str]] = []

    def collect(n: int, label: str = "") -> None:
        seen.append((n, label))

    registrar.scheduler_register(
        collect, func_args=[1], func_kwargs={"label": "a"}, minute="*/5", once_per_cluster=True
    )
    registrar.scheduler_register(collect, func_args=[2], second="*")
    registrar.scheduler_register_once(collect, func_args=[3])
    cron, local, once = module_jobs(registrar.registry.scheduled_jobs)
    assert cron.name.endswith("collect#1") and cron.name != local.name
    assert cron.schedule is not None and cron.schedule.fields["second"] == "0"
    assert (cron.per_replica, local.per_replica, once.schedule) == (False, True, None)
    for job in (cron, local, once):
        job.run()
    assert seen == [(1, "a"), (2, ""), (3, "")]
