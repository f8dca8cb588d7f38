"""Snapshots on the real servers: values of a known profile, linked entities seen by
correlation hooks in dependency order, storage reads, the snapshots topic, hook tasks back
on the input topic, run hooks once per run, and a cycle refused at start-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from typing import Any

import pytest
from support import CONFIGS, application, read_topic, running, wait_for

from streamcore.codec.tasks import TaskDecoder
from streamcore.config import load_config
from streamcore.errors import ModuleLoadError
from streamcore.model.datapoint import Link
from streamcore.module.loader import load_modules
from streamcore.runtime import Runtime, build_snapshot_worker, make_snapshots
from streamcore.settings import Settings
from streamcore.snapshot.messages import SnapshotCodec
from streamcore.state.encoding import dumps
from streamcore.state.merge import interval_key
from streamcore.state.record import PLAIN_KEY, EntityRecord, Row
from streamcore.state.snapshots import SnapshotStore


def entity(etype: str, eid: Any, **plain: Any) -> EntityRecord:
    now = datetime.now(UTC).replace(microsecond=0)
    record = EntityRecord(etype, eid, str(eid), exists=True, created=now, dirty_meta=True)
    for attr, value in plain.items():
        record.put(attr, PLAIN_KEY, Row(value, dumps(value), t1=now))
    return record


def observe(  # noqa: PLR0917 (reads like a data-point)
    record: EntityRecord, attr: str, v: Any, t1: datetime, t2: datetime, c: float
) -> None:
    record.put(attr, interval_key(t1, t2, dumps(v)), Row(v, dumps(v), t1=t1, t2=t2, c=c))


def profiles(now: datetime) -> list[EntityRecord]:
    """ip 1 -> evil domain; ip 2 -> missing domain, port 23 open; ip 3 alone."""
    recent, old = now - timedelta(minutes=2), now - timedelta(hours=2)
    ip1 = entity("ip", IPv4Address("192.0.2.1"), domain=Link("evil.example"))
    observe(ip1, "ports", [22, 80], recent - timedelta(minutes=5), recent, 1.0)
    observe(ip1, "ports", [21], old, old, 1.0)  # long expired
    observe(ip1, "os", "linux", recent, recent, 0.8)  # 2 of 20 min post-validity gone: 0.72
    ip2 = entity("ip", IPv4Address("192.0.2.2"), domain=Link("missing.example"))
    observe(ip2, "ports", [23], recent, recent, 1.0)
    ip3 = entity("ip", IPv4Address("192.0.2.3"))
    domains = [entity("domain", "evil.example", label="evil"), entity("domain", "ok.example")]
    return [ip1, ip2, ip3, *domains]


def run_once(runtime: Runtime, worker: Any) -> datetime:
    store = SnapshotStore(
        runtime.session, runtime.settings.cassandra.keyspace, runtime.config.model_spec
    )
    run = make_snapshots(runtime)
    with running(worker):
        wait_for(lambda: store.progress(run)[0] == runtime.settings.snapshots.tasks_per_run)
        wait_for(lambda: worker.stats.runs_finalized == 1)
    return run


def test_snapshot_run_of_linked_profiles(settings: Settings, app_name: str, keyspace: str) -> None:
    settings = settings.model_copy(
        update={"snapshots": settings.snapshots.model_copy(update={"tasks_per_run": 8})}
    )
    with application(settings, app_name, keyspace, config="snapshots") as runtime:
        runtime.store().write(profiles(datetime.now(UTC)))
        loaded = load_modules(runtime.config.platform_config(app_name, 0))
        module: Any = loaded.modules["risk"]
        worker = build_snapshot_worker(runtime, loaded.registrar.registry, trigger=False)
        run = run_once(runtime, worker)

        store = SnapshotStore(runtime.session, keyspace, runtime.config.model_spec)
        time, ip1 = store.latest("ip", "192.0.2.1")  # type: ignore[misc]
        assert time == run
        # 2 min into the 10 min post-validity of [22, 80]: 0.8; [21] expired long ago
        assert ip1["ports"] == [22, 80] and ip1["ports#c"] == pytest.approx(0.8, abs=0.02)
        assert ip1["os"] == "linux" and ip1["os#c"] == pytest.approx(0.72, abs=0.02)
        assert ip1["domain"] == {"eid": "evil.example"}  # link as in DP³, record detached
        assert (ip1["risk"], ip1["seen_domain_label"]) == ("high", "evil")
        assert store.latest("ip", "192.0.2.2")[1]["risk"] == "high"  # type: ignore[index]
        assert store.latest("ip", "192.0.2.3")[1] == {
            "eid": "192.0.2.3",
            "risk": "low",
            "seen_domain_label": None,
        }  # type: ignore[index]
        assert store.latest("domain", "evil.example")[1]["bad"] == "yes"  # type: ignore[index]
        assert store.between("ip", "192.0.2.1", run - timedelta(seconds=1), run)[0][0] == run
        assert (
            store.between("ip", "192.0.2.1", run + timedelta(seconds=1), run + timedelta(days=1))
            == []
        )

        # every domain hook call came before the ip hook that read it, linked or owned
        calls = module.calls
        assert calls.index("domain evil.example") < calls.index("ip 192.0.2.1")
        assert (module.inits, module.finals) == (1, 1)
        assert worker.stats.entities == 5 and worker.hooks.failures == 0

        published = read_topic(runtime.settings, runtime.topic("snapshots"), expect=5)
        decoded = [SnapshotCodec().decode(m.value()) for m in published]
        assert sorted((s.etype, s.eid) for s in decoded) == sorted(
            [
                ("ip", "192.0.2.1"),
                ("ip", "192.0.2.2"),
                ("ip", "192.0.2.3"),
                ("domain", "evil.example"),
                ("domain", "ok.example"),
            ]
        )
        assert all(s.time == run for s in decoded)
        tasks = read_topic(runtime.settings, runtime.topic("input"), expect=3)
        decoder = TaskDecoder(runtime.config.model_spec)
        risks = {str(t.eid): t.data_points[0].v for t in (decoder.decode(m.value()) for m in tasks)}
        assert risks == {"192.0.2.1": "high", "192.0.2.2": "high", "192.0.2.3": "low"}


def test_a_correlation_cycle_is_a_start_up_error_naming_the_modules() -> None:
    config = load_config(CONFIGS / "snapshot_cycle")
    with pytest.raises(ModuleLoadError, match=r"cycle.*first: First\.hook.*second: Second\.hook"):
        load_modules(config.platform_config("cycle", 0))


def test_make_snapshots_wait_follows_the_run_to_its_end(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    from click.testing import CliRunner

    from streamcore.cli import main

    settings = settings.model_copy(
        update={"snapshots": settings.snapshots.model_copy(update={"tasks_per_run": 4})}
    )
    env = {
        "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "STREAMCORE_CASSANDRA__PORT": str(settings.cassandra.port),
        "STREAMCORE_CASSANDRA__KEYSPACE": keyspace,
        "STREAMCORE_SNAPSHOTS__TASKS_PER_RUN": "4",
    }
    config = str(CONFIGS / "snapshots")
    with application(settings, app_name, keyspace, config="snapshots") as runtime:
        runtime.store().write(profiles(datetime.now(UTC)))
        command = ["make-snapshots", config, "--app-name", app_name, "--wait"]

        # No snapshot worker: the wait gives up, says why and exits 2.
        alone = CliRunner().invoke(main, [*command, "--timeout", "2"], env=env)
        assert alone.exit_code == 2, alone.output
        assert "0/4 tasks" in alone.output and "is a snapshot worker running?" in alone.output

        loaded = load_modules(runtime.config.platform_config(app_name, 0))
        worker = build_snapshot_worker(runtime, loaded.registrar.registry, trigger=False)
        with running(worker):
            result = CliRunner().invoke(main, [*command, "--timeout", "120"], env=env)
        assert result.exit_code == 0, result.output
        assert "4/4 tasks done, 5 entities" in result.output
        assert "finished: 5 entities" in result.output
