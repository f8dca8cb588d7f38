"""Links and deletes as DP³ has them, on the real servers (configs/dp3_links: DP³'s
garbage-collector test entities). Deleting an entity, by a delete task or by the garbage
collector, removes the links pointing at it (DP³'s ``test_no_ref_after_delete`` and
``test_no_ref_after_garbage_collection``) and its snapshots; mirrored links follow links
being added and removed, from either side."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from support import application, running, wait_for

from streamcore.model.datapoint import DataPoint, DataPointTask, Link
from streamcore.module.loader import LoadedModules, load_modules
from streamcore.module.registrar import CallbackRegistrar
from streamcore.producer import DataPointProducer
from streamcore.runtime import (
    Runtime,
    build_ingest_worker,
    build_scheduler,
    build_snapshot_worker,
    make_snapshots,
)
from streamcore.settings import Settings
from streamcore.state.snapshots import SnapshotStore

CONFIG = "dp3_links"
MAC = "00:00:00:00:00:41"


def send(runtime: Runtime, *tasks: DataPointTask) -> None:
    with DataPointProducer(runtime.settings, runtime.app_name, runtime.config.model_spec) as p:
        for task in tasks:
            p.send(task)


def put(etype: str, eid: Any, **values: Any) -> DataPointTask:
    return DataPointTask(etype, eid, [DataPoint(etype, eid, a, v) for a, v in values.items()])


def seen(weak: str) -> DataPoint:
    now = datetime.now(UTC)
    return DataPoint("del_anchor", "a6", "seen", Link(weak), now - timedelta(minutes=1), now)


def plain(runtime: Runtime, etype: str, eid: Any, attr: str) -> Any:
    (record,) = runtime.store().load([(etype, eid)])
    return record.plain(attr) if record.exists else "<deleted>"


def rows(runtime: Runtime, etype: str, eid: Any, attr: str) -> int:
    (record,) = runtime.store().load([(etype, eid)])
    return len(record.attrs.get(attr, {}))


def exists(runtime: Runtime, etype: str, eid: Any) -> bool:
    (record,) = runtime.store().load([(etype, eid)])
    return bool(record.exists)


def linked_from(runtime: Runtime, etype: str, eid: str) -> set[tuple[str, str, str]]:
    return set(runtime.store().links_to(etype, eid))


def test_no_ref_after_delete(settings: Settings, app_name: str, keyspace: str) -> None:
    """DP³: delete the weak entities w4 and 00:00:00:00:00:41 (DP³'s typed case: int ids
    linking to MAC ids) through the API; anchors a6 and 6 keep data1 and lose ref."""
    with (
        application(settings, app_name, keyspace, config=CONFIG) as runtime,
        running(build_ingest_worker(runtime)),
    ):
        send(
            runtime,
            put("del_weak", "w4", data1="test6_data"),
            put("del_weak", "w5", data1="other"),
            put("del_anchor", "a6", data1="test6_data", ref=Link("w4")),
            put("del_weak_mac", MAC, data1="test6_data"),
            put("del_anchor_int", 6, data1="test6_data", ref=Link(MAC)),
            DataPointTask("del_anchor", "a6", [seen("w4"), seen("w5")]),
        )
        wait_for(lambda: rows(runtime, "del_anchor", "a6", "seen") == 2)
        wait_for(lambda: plain(runtime, "del_anchor_int", 6, "ref") is not None)
        assert plain(runtime, "del_anchor", "a6", "ref") == Link("w4")
        assert linked_from(runtime, "del_weak", "w4") == {
            ("del_anchor", "ref", "a6"),
            ("del_anchor", "seen", "a6"),
        }

        send(runtime, DataPointTask("del_weak", "w4", delete=True))
        send(runtime, DataPointTask("del_weak_mac", MAC, delete=True))
        wait_for(lambda: plain(runtime, "del_anchor", "a6", "ref") is None)
        wait_for(lambda: plain(runtime, "del_anchor_int", 6, "ref") is None)
        assert plain(runtime, "del_anchor_int", 6, "data1") == "test6_data"
        assert not exists(runtime, "del_weak_mac", MAC)
        wait_for(lambda: rows(runtime, "del_anchor", "a6", "seen") == 1)  # w5's
        assert not exists(runtime, "del_weak", "w4")
        assert plain(runtime, "del_anchor", "a6", "data1") == "test6_data"
        assert linked_from(runtime, "del_weak", "w4") == set()
        assert exists(runtime, "del_weak", "w5")  # only the links to w4 went

        # The anchor deleted in turn: its own links leave the index with it.
        assert linked_from(runtime, "del_weak", "w5") == {("del_anchor", "seen", "a6")}
        send(
            runtime,
            DataPointTask("del_anchor", "a6", delete=True),
        )
        wait_for(lambda: not exists(runtime, "del_anchor", "a6"))
        assert linked_from(runtime, "del_weak", "w5") == set()


def test_no_ref_after_garbage_collection(settings: Settings, app_name: str, keyspace: str) -> None:
    """DP³: a7 and a8 link to t5 (TTL lifetime); once the collector deletes t5, both keep
    data1 and have no ref_ttl."""
    with application(settings, app_name, keyspace, config=CONFIG) as runtime:
        loaded = LoadedModules(CallbackRegistrar(runtime.config.model_spec), {})
        with running(build_ingest_worker(runtime)):
            send(
                runtime,
                put("del_ttl", "t5", data1="test7_data"),
                put("del_anchor", "a7", data1="test7_data", ref_ttl=Link("t5")),
                put("del_anchor", "a8", data1="test7_data", ref_ttl=Link("t5")),
            )
            wait_for(lambda: plain(runtime, "del_anchor", "a8", "ref_ttl") == Link("t5"))
            wait_for(lambda: plain(runtime, "del_anchor", "a7", "ref_ttl") == Link("t5"))
            scheduler = build_scheduler(runtime, loaded, "gc")
            thread = threading.Thread(target=scheduler.run)
            thread.start()
            try:
                wait_for(lambda: not exists(runtime, "del_ttl", "t5"), timeout=30)
                for anchor in ("a7", "a8"):
                    wait_for(lambda a=anchor: plain(runtime, "del_anchor", a, "ref_ttl") is None)
            finally:
                scheduler.stop()
                thread.join(30)
            for anchor in ("a7", "a8"):
                assert plain(runtime, "del_anchor", anchor, "data1") == "test7_data"
            assert linked_from(runtime, "del_ttl", "t5") == set()


@contextmanager
def snapshot_worker(runtime: Runtime) -> Iterator[Any]:
    loaded = load_modules(runtime.config.platform_config(runtime.app_name, 0))
    worker = build_snapshot_worker(runtime, loaded.registrar.registry, trigger=False)
    with running(worker):
        yield worker


def snapshot_run(runtime: Runtime, worker: Any) -> None:
    store = SnapshotStore(
        runtime.session, runtime.settings.cassandra.keyspace, runtime.config.model_spec
    )
    finalized = worker.stats.runs_finalized
    run = make_snapshots(runtime)
    wait_for(lambda: store.progress(run)[0] == runtime.settings.snapshots.tasks_per_run)
    wait_for(lambda: worker.stats.runs_finalized == finalized + 1)


def members(runtime: Runtime, group: str) -> list[Any]:
    store = SnapshotStore(
        runtime.session, runtime.settings.cassandra.keyspace, runtime.config.model_spec
    )
    latest = store.latest("del_group", group)
    assert latest is not None
    return sorted(link["eid"] for link in latest[1]["members"])


def test_mirrored_links_and_snapshots_follow_deletes(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    with application(settings, app_name, keyspace, config=CONFIG) as runtime:
        snapshots = SnapshotStore(runtime.session, keyspace, runtime.config.model_spec)
        with running(build_ingest_worker(runtime)), snapshot_worker(runtime) as worker:
            send(
                runtime,
                put("del_group", "g1", name="one"),
                put("del_group", "g2", name="two"),
                put("del_anchor", "a1", member=Link("g1")),
                put("del_anchor", "a2", member=Link("g1")),
                put("del_anchor", "a3", member=Link("g2")),
            )
            wait_for(lambda: plain(runtime, "del_anchor", "a3", "member") == Link("g2"))
            wait_for(lambda: len(linked_from(runtime, "del_group", "g1")) == 2)
            snapshot_run(runtime, worker)
            assert members(runtime, "g1") == ["a1", "a2"]
            assert members(runtime, "g2") == ["a3"]
            assert snapshots.latest("del_anchor", "a1") is not None

            # The linking side goes: the mirror loses it; its snapshots go with it.
            send(runtime, DataPointTask("del_anchor", "a1", delete=True))
            wait_for(lambda: not exists(runtime, "del_anchor", "a1"))
            assert snapshots.latest("del_anchor", "a1") is None
            # A link moved: the mirror follows.
            send(runtime, put("del_anchor", "a3", member=Link("g1")))
            wait_for(lambda: plain(runtime, "del_anchor", "a3", "member") == Link("g1"))
            snapshot_run(runtime, worker)
            assert members(runtime, "g1") == ["a2", "a3"]
            assert members(runtime, "g2") == []

            # The linked side goes: the links to it are removed from the linking entities.
            send(runtime, DataPointTask("del_group", "g1", delete=True))
            wait_for(lambda: plain(runtime, "del_anchor", "a2", "member") is None)
            wait_for(lambda: plain(runtime, "del_anchor", "a3", "member") is None)
            assert snapshots.latest("del_group", "g1") is None
            snapshot_run(runtime, worker)
            assert snapshots.latest("del_group", "g1") is None
            assert members(runtime, "g2") == []
