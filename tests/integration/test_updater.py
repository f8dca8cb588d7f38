"""Periodic updater on the real servers: every entity once per period, across replicas and
restarts; tasks the hooks return reach the input topic."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from support import application, read_topic, wait_for

from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.module.loader import LoadedModules
from streamcore.module.registrar import CallbackRegistrar
from streamcore.runtime import Runtime, build_scheduler
from streamcore.schedule.scheduler import Scheduler
from streamcore.settings import Settings
from streamcore.state.record import EntityRecord

HOSTS = [f"host-{n:03d}" for n in range(240)]
PERIOD = "4s"  # four one-second batches (configs/scheduler/updater.yml)


class Visits:
    """Hook calls from every replica, with the time they happened."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.record: list[tuple[Any, datetime, Any]] = []
        self.eid_only: list[tuple[Any, datetime]] = []

    def on_record(self, etype: str, eid: Any, master: dict[str, Any]) -> list[DataPointTask]:
        with self.lock:
            self.record.append((eid, datetime.now(UTC), master["_id"]))
        return [DataPointTask(etype, eid, [DataPoint(etype, eid, "visited", 1)])]

    def on_eid(self, etype: str, eid: Any) -> list[DataPointTask]:
        with self.lock:
            self.eid_only.append((eid, datetime.now(UTC)))
        return []


def store_hosts(runtime: Runtime) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    records = []
    for eid in HOSTS:
        record = EntityRecord("host", eid, eid, exists=True, created=now, created_by="test")
        record.dirty_meta = True
        records.append(record)
    runtime.store().write(records)


def registrar_with(runtime: Runtime, visits: Visits) -> LoadedModules:
    registrar = CallbackRegistrar(runtime.config.model_spec, timedelta(seconds=1))
    registrar.register_periodic_update_hook(visits.on_record, "visit", "host", PERIOD)
    registrar.register_periodic_eid_update_hook(visits.on_eid, "ping", "host", PERIOD)
    return LoadedModules(registrar, {})


@contextmanager
def running(*schedulers: Scheduler) -> Iterator[None]:
    threads = [threading.Thread(target=s.run, daemon=True) for s in schedulers]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for scheduler in schedulers:
            scheduler.stop()
        for thread in threads:
            thread.join(30)
    assert not any(thread.is_alive() for thread in threads)


def progress(runtime: Runtime, thread: str) -> Any:
    keyspace = runtime.settings.cassandra.keyspace
    return runtime.session.execute(
        f"SELECT round, iteration, started FROM {keyspace}.updater_progress WHERE thread = %s",
        (thread,),
    ).one()


def round_started(runtime: Runtime, thread: str, number: int) -> datetime | None:
    row = progress(runtime, thread)
    if row is None or row.round < number:
        return None
    return row.started.replace(tzinfo=UTC)


def round_boundary(runtime: Runtime, thread: str, number: int) -> datetime | None:
    """The moment round ``number`` took over: its start is saved right after the last
    slice of the round before, and Cassandra keeps it to the millisecond (truncated), so
    that slice's visits may fall in the same millisecond: the boundary is its end."""
    started = round_started(runtime, thread, number)
    return None if started is None else started + timedelta(milliseconds=1)


def test_two_replicas_visit_every_entity_once_per_period(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    with application(settings, app_name, keyspace, config="scheduler") as runtime:
        store_hosts(runtime)
        visits = Visits()
        loaded = registrar_with(runtime, visits)
        replicas = [build_scheduler(runtime, loaded, f"replica-{n}") for n in range(2)]
        with running(*replicas):
            end = wait_for(lambda: round_boundary(runtime, "host:4s:record", 1), timeout=30)
            # Each thread keeps its own rounds: the eid-only one's may end after the record
            # one's (it did in CI, on a busy machine).
            eid_end = wait_for(lambda: round_boundary(runtime, "host:4s:eid", 1), timeout=30)
        first_round = Counter(eid for eid, at, _ in visits.record if at < end)
        assert first_round == Counter(HOSTS)  # each one, exactly once
        assert all(str(eid) == str(master_id) for eid, _, master_id in visits.record)
        eid_round = Counter(eid for eid, at in visits.eid_only if at < eid_end)
        assert set(eid_round) == set(HOSTS) and set(eid_round.values()) == {1}
        # Spread over the period: four batches, a second apart, none holding everything.
        per_second = Counter(at.replace(microsecond=0) for _, at, _ in visits.record if at < end)
        assert len(per_second) >= 3 and max(per_second.values()) < len(HOSTS)
        ran = [r.count("platform:updater:host:4s:record", "ran") for r in replicas]
        assert sum(ran) >= 4
        keys = Counter(m.key() for m in read_topic(settings, runtime.topic("input"), len(HOSTS)))
        assert {f"host:{eid}".encode() for eid in HOSTS} <= set(keys)


def test_progress_survives_a_restart(settings: Settings, app_name: str, keyspace: str) -> None:
    with application(settings, app_name, keyspace, config="scheduler") as runtime:
        store_hosts(runtime)
        visits = Visits()
        loaded = registrar_with(runtime, visits)
        with running(build_scheduler(runtime, loaded, "before")):
            wait_for(lambda: (p := progress(runtime, "host:4s:record")) and p.iteration >= 2)
        stopped_at = progress(runtime, "host:4s:record")
        assert stopped_at.round == 0
        done_before = {eid for eid, _, _ in visits.record}
        assert 0 < len(done_before) < len(HOSTS)
        with running(build_scheduler(runtime, loaded, "after")):
            end = wait_for(lambda: round_boundary(runtime, "host:4s:record", 1), timeout=30)
        first_round = Counter(eid for eid, at, _ in visits.record if at < end)
        assert first_round == Counter(HOSTS)
