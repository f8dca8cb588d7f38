"""Two snapshot workers on the real servers, both watching a 6-second creation_rate: each
slot is triggered by exactly one of them, and every entity is snapshotted exactly once per
run (in Cassandra and on the snapshots topic), with the tasks shared between the workers."""

from __future__ import annotations

import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime
from ipaddress import IPv4Address

from support import application, read_topic, running, wait_for

from streamcore.module.loader import load_modules
from streamcore.runtime import build_snapshot_worker
from streamcore.settings import Settings
from streamcore.snapshot.messages import SnapshotCodec
from streamcore.state.encoding import dumps
from streamcore.state.record import PLAIN_KEY, EntityRecord, Row
from streamcore.state.snapshots import SnapshotStore

ENTITIES = 40
TASKS = 8


def ips(count: int) -> list[EntityRecord]:
    now = datetime.now(UTC).replace(microsecond=0)
    records = []
    for i in range(count):
        ip = IPv4Address("10.0.0.0") + i
        record = EntityRecord("ip", ip, str(ip), exists=True, created=now, dirty_meta=True)
        record.put("risk", PLAIN_KEY, Row("low", dumps("low"), t1=now))
        records.append(record)
    return records


def test_one_trigger_per_slot_and_each_entity_once_per_run(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    snap = settings.snapshots.model_copy(update={"tasks_per_run": TASKS})
    settings = settings.model_copy(update={"snapshots": snap})
    with application(settings, app_name, keyspace, config="snapshots") as runtime:
        runtime.store().write(ips(ENTITIES))
        store = SnapshotStore(runtime.session, keyspace, runtime.config.model_spec)
        workers = []
        for name in ("a", "b"):
            loaded = load_modules(runtime.config.platform_config(app_name, 0))
            workers.append(build_snapshot_worker(runtime, loaded.registrar.registry, instance=name))
        triggers = [worker.trigger for worker in workers]
        with ExitStack() as stack:
            for worker in workers:
                stack.enter_context(running(worker))
            time.sleep(14)  # at least two 6-second slots
            for worker in workers:  # no more triggers; let claimed runs finish
                worker.trigger = None
            time.sleep(2)  # a check already under way finishes planning its run
            runs = [
                row.run
                for row in runtime.session.execute(f"SELECT run FROM {keyspace}.snapshot_runs")
            ]
            for run in runs:
                wait_for(lambda run=run: store.progress(run)[0] == TASKS)

        claims = [trigger.claimed for trigger in triggers]
        assert len(runs) >= 2
        assert sum(claims) == len(runs)  # one claim won per slot, cluster-wide
        tasks = read_topic(
            runtime.settings, runtime.topic("snapshot_tasks"), expect=len(runs) * TASKS
        )
        assert len(tasks) == len(runs) * TASKS  # every run planned once
        assert all(worker.stats.tasks > 0 for worker in workers)  # the group shared the work
        assert sum(w.stats.entities for w in workers) == ENTITIES * len(runs)

        for i in (0, ENTITIES - 1):
            eid = str(IPv4Address("10.0.0.0") + i)
            rows = store.between("ip", eid, min(runs), max(runs))
            assert sorted(t for t, _ in rows) == sorted(r.replace(tzinfo=UTC) for r in runs)
        published = read_topic(
            runtime.settings, runtime.topic("snapshots"), expect=ENTITIES * len(runs)
        )
        decoded = [SnapshotCodec().decode(m.value()) for m in published]
        per_run_entity = Counter((s.time, s.eid) for s in decoded)
        assert len(per_run_entity) == ENTITIES * len(runs)
        assert set(per_run_entity.values()) == {1}
