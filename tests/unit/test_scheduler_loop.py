"""Scheduler: once per slot across replicas (through claims), failures counted, loop goes on."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

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


@contextmanager
def started(*schedulers: Scheduler) -> Iterator[None]:
    threads = [threading.Thread(target=s.run, daemon=True) for s in schedulers]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for scheduler in schedulers:
            scheduler.stop()
        for thread in threads:
            thread.join(10)
    assert not any(thread.is_alive() for thread in threads)


def test_each_fire_time_runs_once_across_two_replicas() -> None:
    runs: list[datetime] = []
    every_second = CronSchedule({"second": "*"})

    def tick() -> None:
        runs.append(datetime.now(UTC).replace(microsecond=0))

    claims = MemoryClaims()
    replicas = [Scheduler([Job("tick", tick, every_second)], claims) for _ in range(2)]
    with started(*replicas):
        time.sleep(3.5)
    per_second = Counter(runs)
    assert len(per_second) >= 3
    assert set(per_second.values()) == {1}, per_second
    assert sum(r.count("tick", "claimed_elsewhere") for r in replicas) >= 3


def test_per_replica_jobs_run_in_every_replica() -> None:
    runs: list[int] = []
    claims = MemoryClaims()
    job = Job("local", lambda: runs.append(1), CronSchedule({"second": "*"}), per_replica=True)
    replicas = [Scheduler([job], claims) for _ in range(2)]
    with started(*replicas):
        time.sleep(2.5)
    assert all(r.count("local", "ran") >= 2 for r in replicas)
    assert claims.taken == set()


def test_a_failing_job_is_counted_and_the_scheduler_goes_on() -> None:
    good: list[int] = []

    def bad() -> None:
        raise RuntimeError("boom")

    every_second = CronSchedule({"second": "*"})
    scheduler = Scheduler(
        [Job("bad", bad, every_second), Job("good", lambda: good.append(1), every_second)],
        MemoryClaims(),
    )
    with started(scheduler):
        time.sleep(2.5)
    assert scheduler.count("bad", "failed") >= 2
    assert scheduler.count("good", "ran") >= 2


def test_a_job_still_running_is_not_started_again() -> None:
    release = threading.Event()
    scheduler = Scheduler(
        [Job("slow", lambda: release.wait(5), CronSchedule({"second": "*"}))], MemoryClaims()
    )
    with started(scheduler):
        time.sleep(2.5)
        release.set()
    assert scheduler.count("slow", "busy") >= 1
    assert scheduler.count("slow", "ran") == 1


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
