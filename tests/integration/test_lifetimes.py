"""Entity lifetimes on the real servers: the garbage collector (in a scheduler) sends
deletes through the input topic; a running ingestion worker removes the entities from
``entity_state`` and ``entity_index``. Immortal and still-referenced entities stay."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from support import application, running, wait_for

from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.module.loader import LoadedModules
from streamcore.module.registrar import CallbackRegistrar
from streamcore.producer import DataPointProducer
from streamcore.runtime import Runtime, build_ingest_worker, build_scheduler
from streamcore.settings import Settings


def send(runtime: Runtime, *tasks: DataPointTask) -> None:
    with DataPointProducer(runtime.settings, runtime.app_name, runtime.config.model_spec) as p:
        for task in tasks:
            p.send(task)


def exists(runtime: Runtime, etype: str, eid: Any) -> bool:
    (record,) = runtime.store().load([(etype, eid)])
    return bool(record.exists)


def indexed(runtime: Runtime, etype: str) -> set[Any]:
    return set(runtime.store().eids(etype))


def partition_rows(runtime: Runtime, etype: str, eid: str) -> int:
    keyspace = runtime.settings.cassandra.keyspace
    rows = runtime.session.execute(
        f"SELECT attr FROM {keyspace}.entity_state WHERE etype = %s AND eid = %s", (etype, eid)
    )
    return len(list(rows))


def test_expired_and_unreferenced_entities_are_removed(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    with application(settings, app_name, keyspace, config="scheduler") as runtime:
        far = datetime.now(UTC) + timedelta(hours=1)
        loaded = LoadedModules(CallbackRegistrar(runtime.config.model_spec), {})
        with running(build_ingest_worker(runtime)):
            # user lifetime: ttl, on_create 2s, no data mirroring (configs/scheduler).
            send(
                runtime,
                DataPointTask("user", "short", [DataPoint("user", "short", "home", {"eid": "t1"})]),
                DataPointTask("user", "kept", ttl_tokens={"api": far}),
                DataPointTask("user", "kept", [DataPoint("user", "kept", "home", {"eid": "t2"})]),
                DataPointTask("line", "l1", [DataPoint("line", "l1", "note", "immortal")]),
            )
            wait_for(lambda: exists(runtime, "user", "kept") and exists(runtime, "line", "l1"))
            # Tickets after the links to them: a weak entity nobody links to yet is garbage.
            send(
                runtime,
                *(
                    DataPointTask("ticket", t, [DataPoint("ticket", t, "note", t)])
                    for t in ("t1", "t2", "orphan")
                ),
            )
            wait_for(lambda: indexed(runtime, "ticket") == {"t1", "t2", "orphan"})

            scheduler = build_scheduler(runtime, loaded, "gc")
            thread = threading.Thread(target=scheduler.run)
            thread.start()
            try:
                # "short" outlives its 2 s token, then goes; "orphan" goes at the next run;
                # t1 goes one run after "short" (its only referrer) is gone.
                wait_for(lambda: indexed(runtime, "user") == {"kept"}, timeout=30)
                wait_for(lambda: indexed(runtime, "ticket") == {"t2"}, timeout=30)
                runs = scheduler.count("platform:garbage_collector", "ran")
                wait_for(lambda: scheduler.count("platform:garbage_collector", "ran") > runs + 1)
            finally:
                scheduler.stop()
                thread.join(30)

            for etype, eid in (("user", "short"), ("ticket", "orphan"), ("ticket", "t1")):
                assert not exists(runtime, etype, eid)
                assert partition_rows(runtime, etype, eid) == 0
            assert exists(runtime, "user", "kept") and exists(runtime, "ticket", "t2")
            assert exists(runtime, "line", "l1") and indexed(runtime, "line") == {"l1"}
