"""Module callbacks of ``scheduler_register`` on the real servers: once per fire time with
two replicas (claims in Cassandra) with ``once_per_cluster=True``; by default (DP³: every
process hosting the module) and with ``per_replica=True``, in every replica."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

from support import application

from streamcore.module.loader import LoadedModules
from streamcore.module.registrar import CallbackRegistrar
from streamcore.runtime import build_scheduler
from streamcore.settings import Settings


def test_a_callback_runs_once_per_fire_time_across_two_replicas(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    with application(settings, app_name, keyspace, config="scheduler") as runtime:
        lock = threading.Lock()
        shared: list[datetime] = []
        local: list[str] = []
        failures: list[int] = []

        def every_second(label: str) -> None:
            with lock:
                shared.append(datetime.now(UTC).replace(microsecond=0))

        def in_each_replica() -> None:
            with lock:
                local.append(threading.current_thread().name)

        defaulted: list[str] = []

        def by_default() -> None:
            with lock:
                defaulted.append(threading.current_thread().name)

        def failing() -> None:
            failures.append(1)
            raise RuntimeError("module bug")

        registrar = CallbackRegistrar(runtime.config.model_spec)
        registrar.scheduler_register(
            every_second, func_args=["tick"], second="*", once_per_cluster=True
        )
        registrar.scheduler_register(in_each_replica, second="*/2", per_replica=True)
        registrar.scheduler_register(failing, second="*", once_per_cluster=True)
        registrar.scheduler_register(by_default, second="*/2")
        loaded = LoadedModules(registrar, {})
        replicas = [build_scheduler(runtime, loaded, f"replica-{n}") for n in range(2)]
        threads = [threading.Thread(target=r.run) for r in replicas]
        for thread in threads:
            thread.start()
        time.sleep(5)
        for replica in replicas:
            replica.stop()
        for thread in threads:
            thread.join(30)

        per_second = Counter(shared)
        assert len(per_second) >= 4
        assert set(per_second.values()) == {1}, per_second
        names = {job.name for job in replicas[0].jobs}
        shared_job = next(n for n in names if "every_second" in n)
        assert sum(r.count(shared_job, "claimed_elsewhere") for r in replicas) >= 4
        local_job = next(n for n in names if "in_each_replica" in n)
        assert all(r.count(local_job, "ran") >= 2 for r in replicas)
        default_job = next(n for n in names if "by_default" in n)
        assert all(r.count(default_job, "ran") >= 2 for r in replicas)
        assert all(r.count(default_job, "claimed_elsewhere") == 0 for r in replicas)
        failing_job = next(n for n in names if "failing" in n)
        assert sum(r.count(failing_job, "failed") for r in replicas) == len(failures) >= 4
        assert sum(r.count(shared_job, "ran") for r in replicas) == len(shared)
