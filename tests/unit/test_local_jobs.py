"""``LocalJobs``: the modules' callbacks a worker runs itself, on the thread that runs its
hooks, with a fake clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from streamcore.errors import HookRegistrationError
from streamcore.module.registrar import CallbackRegistrar
from streamcore.schedule.local import local_module_jobs
from streamcore.testing.config import model_spec_from_dicts

MODEL = {
    "host": {
        "entity": {"id": "host", "name": "Host", "snapshot": False},
        "attribs": {"name": {"name": "n", "type": "plain", "data_type": "string"}},
    }
}
T0 = datetime(2026, 3, 1, 12, 0, 0, 500_000, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_due_callbacks_run_on_the_calling_thread_once_per_fire_time() -> None:
    registrar = CallbackRegistrar(model_spec_from_dicts(MODEL))
    threads: list[str] = []
    registrar.scheduler_register(
        lambda: threads.append(threading.current_thread().name), second="*"
    )
    clock = Clock()
    jobs = local_module_jobs(registrar.registry.scheduled_jobs, clock)
    jobs.run_due()
    assert threads == []  # the first fire time is 12:00:01
    clock.now = T0 + timedelta(seconds=0.6)
    jobs.run_due()
    jobs.run_due()  # the same fire time: not again
    assert threads == [threading.current_thread().name]
    clock.now = T0 + timedelta(seconds=10)  # nine fire times missed: one run (coalesced)
    jobs.run_due()
    assert len(threads) == 2
    assert jobs.count("lambda", "ran") == 2


def test_a_failing_callback_is_counted_and_the_others_run() -> None:
    registrar = CallbackRegistrar(model_spec_from_dicts(MODEL))
    ran: list[int] = []

    def broken() -> None:
        raise RuntimeError("module bug")

    registrar.scheduler_register(broken, second="*")
    registrar.scheduler_register(lambda: ran.append(1), second="*")
    clock = Clock()
    jobs = local_module_jobs(registrar.registry.scheduled_jobs, clock)
    clock.now = T0 + timedelta(seconds=1)
    jobs.run_due()
    assert ran == [1] and jobs.count("broken", "failed") == 1


def test_once_per_cluster_and_start_up_jobs_are_the_schedulers() -> None:
    registrar = CallbackRegistrar(model_spec_from_dicts(MODEL))
    ran: list[str] = []
    registrar.scheduler_register(lambda: ran.append("cluster"), second="*", once_per_cluster=True)
    registrar.scheduler_register_once(lambda: ran.append("once"))
    clock = Clock()
    jobs = local_module_jobs(registrar.registry.scheduled_jobs, clock)
    clock.now = T0 + timedelta(seconds=5)
    jobs.run_due()
    assert jobs.jobs == [] and ran == []


def test_per_replica_and_once_per_cluster_exclude_each_other() -> None:
    registrar = CallbackRegistrar(model_spec_from_dicts(MODEL))
    with pytest.raises(HookRegistrationError, match="exclude each other"):
        registrar.scheduler_register(print, second="*", per_replica=True, once_per_cluster=True)


def test_each_run_is_reported_to_the_observer() -> None:
    registrar = CallbackRegistrar(model_spec_from_dicts(MODEL))
    registrar.scheduler_register(lambda: None, second="*")
    seen: list[tuple[str, str]] = []

    class Observer:
        def job_done(self, job: str, outcome: str, seconds: float | None) -> None:
            assert seconds is not None and seconds >= 0
            seen.append((job, outcome))

    clock = Clock()
    jobs = local_module_jobs(registrar.registry.scheduled_jobs, clock)
    jobs.observer = Observer()
    clock.now = T0 + timedelta(seconds=1)
    jobs.run_due()
    assert seen == [(jobs.jobs[0].name, "ran")]
