"""``streamcore entity get|list`` and ``streamcore tail`` on the real servers: what a worker
stored and dead-lettered, read back through the CLI only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from confluent_kafka import Producer
from support import application, read_topic, running, wait_for

from streamcore.cli import main
from streamcore.codec.tasks import TaskEncoder
from streamcore.config import load_config
from streamcore.config.samples import EXAMPLE_CONFIG_DIR
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.producer import DataPointProducer
from streamcore.runtime import Runtime, build_ingest_worker
from streamcore.settings import Settings
from streamcore.snapshot.messages import SnapshotCodec
from streamcore.state.snapshots import SnapshotStore

IP = "192.0.2.10"


def _cli(runtime: Runtime, *args: str) -> Any:
    env = {
        "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": runtime.settings.kafka.bootstrap_servers,
        "STREAMCORE_CASSANDRA__PORT": str(runtime.settings.cassandra.port),
        "STREAMCORE_CASSANDRA__KEYSPACE": runtime.settings.cassandra.keyspace,
        "STREAMCORE_CONFIG_DIR": str(EXAMPLE_CONFIG_DIR),
        "STREAMCORE_APP_NAME": runtime.app_name,
    }
    return CliRunner().invoke(main, list(args), env=env)


def _misspelled_task(tmp_path: Path) -> bytes:
    """A task another model can encode: attribute ``hostnme``, which ours lacks."""
    other = tmp_path / "other"
    (other / "db_entities").mkdir(parents=True)
    (other / "db_entities" / "ip.yml").write_text(
        "entity: {id: ip, id_data_type: ipv4, name: IP, snapshot: true}\n"
        "attribs: {hostnme: {name: Host, type: plain, data_type: string}}\n"
    )
    return TaskEncoder(load_config(other).model_spec).encode(
        DataPointTask("ip", IP, [DataPoint("ip", IP, "hostnme", "typo.example")])
    )


def test_entity_and_tail_show_what_was_stored_and_refused(
    settings: Settings, app_name: str, keyspace: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    seen = now - timedelta(hours=1)
    with application(settings, app_name, keyspace, config=EXAMPLE_CONFIG_DIR) as runtime:
        model = runtime.config.model_spec
        with DataPointProducer(runtime.settings, app_name, model) as producer:
            producer.send(
                DataPointTask(
                    "ip",
                    IP,
                    [
                        DataPoint("ip", IP, "asn", 64500),
                        DataPoint("ip", IP, "open_ports", [22, 443], seen, seen, 0.5),
                    ],
                )
            )
            producer.send(
                DataPointTask("ip", "192.0.2.11", [DataPoint("ip", "192.0.2.11", "asn", 1)])
            )
        raw = Producer(runtime.settings.kafka.client_config())
        raw.produce(
            runtime.topic("input"), key=f"ip:{IP}".encode(), value=_misspelled_task(tmp_path)
        )
        raw.flush(10)
        with running(build_ingest_worker(runtime)):
            wait_for(lambda: runtime.store().load([("ip", IPv4Address("192.0.2.11"))])[0].exists)
            read_topic(runtime.settings, runtime.topic("dead_letter"), expect=1)

        result = _cli(runtime, "entity", "get", "ip", IP)  # piped: JSON
        assert result.exit_code == 0, result.output
        record = json.loads(result.output)
        assert record["_id"] == IP
        assert record["asn"]["v"] == 64500
        assert record["open_ports"] == [
            {"t1": seen.isoformat(), "t2": seen.isoformat(), "v": [22, 443], "c": 0.5}
        ]

        table = _cli(runtime, "entity", "get", "ip", IP, "--format", "table")
        assert table.exit_code == 0, table.output
        assert f"_id: {IP}" in table.output
        assert any(
            line.split() == ["attr", "v", "t1", "t2", "c"] for line in table.output.splitlines()
        )
        assert "open_ports  [22, 443]" in table.output

        frm, to = (
            (seen - timedelta(minutes=1)).isoformat(),
            (seen + timedelta(minutes=1)).isoformat(),
        )
        history = _cli(
            runtime, "entity", "get", "ip", IP, "--history", "open_ports", "--from", frm, "--to", to
        )
        assert [row["v"] for row in json.loads(history.output)] == [[22, 443]]
        before = _cli(runtime, "entity", "get", "ip", IP, "--history", "open_ports", "--to", frm)
        assert json.loads(before.output) == []

        missing = _cli(runtime, "entity", "get", "ip", "192.0.2.99")
        assert missing.exit_code == 1
        assert "no ip 192.0.2.99" in missing.output
        typo = _cli(runtime, "entity", "get", "ipp", IP)
        assert typo.exit_code == 2
        assert "did you mean 'ip'?" in typo.output

        listed = _cli(runtime, "entity", "list", "ip")
        assert sorted(json.loads(line)["eid"] for line in listed.output.splitlines()) == [
            IP,
            "192.0.2.11",
        ]
        assert len(_cli(runtime, "entity", "list", "ip", "--limit", "1").output.splitlines()) == 1

        letters = _cli(runtime, "tail", "dead-letter")
        assert letters.exit_code == 0, letters.output
        (letter,) = [json.loads(line) for line in letters.output.splitlines()]
        assert letter["reason"] == "invalid_data_point"
        assert "unknown attribute 'hostnme' (did you mean 'hostname'?)" in letter["message"]
        assert letter["source"]["key"] == f"ip:{IP}"
        human = _cli(runtime, "tail", "dead-letter", "--format", "table").output
        assert f"invalid_data_point: ip {IP}: unknown attribute 'hostnme'" in human

        inputs = _cli(runtime, "tail", "input", "--format", "table", "-n", "2").output.splitlines()
        assert len(inputs) == 2
        assert inputs[-1].endswith(f"ip {IP}: hostnme=typo.example")

        # A snapshot as the snapshot worker stores and publishes it.
        run = now.replace(second=0)
        SnapshotStore(runtime.session, keyspace, model).save(
            [("ip", IP, json.dumps({"asn": 64500, "risk_score": 3}))], run, 3600
        )
        snapshot = _cli(runtime, "entity", "get", "ip", IP, "--snapshot")
        assert json.loads(snapshot.output) == {
            "time": run.isoformat(),
            "values": {"asn": 64500, "risk_score": 3},
        }
        SnapshotStore(runtime.session, keyspace, model).save(
            [("ip", "192.0.2.11", json.dumps({"asn": 1, "risk_score": 9}))], run, 3600
        )
        for query, expected in [
            ('{"risk_score": {"$gte": 5}}', ["192.0.2.11"]),
            ('{"$or": [{"asn": 64500}, {"asn": 1}]}', sorted([IP, "192.0.2.11"])),
            ('{"asn": {"$in": [7]}}', []),
        ]:
            found = _cli(runtime, "entity", "list", "ip", "--filter", query)
            assert found.exit_code == 0, found.output
            eids = sorted(json.loads(line)["eid"] for line in found.output.splitlines())
            assert eids == expected, query
        bad = _cli(runtime, "entity", "list", "ip", "--filter", '{"asn": {"$near": 1}}')
        assert bad.exit_code == 1 and "$near" in bad.output
        raw.produce(
            runtime.topic("snapshots"),
            key=f"ip:{IP}".encode(),
            value=SnapshotCodec().encode("ip", IP, run, json.dumps({"risk_score": 3})),
        )
        raw.flush(10)
        (published,) = [
            json.loads(line) for line in _cli(runtime, "tail", "snapshots").output.splitlines()
        ]
        assert published["eid"] == IP and published["values"] == {"risk_score": 3}


def test_reading_an_app_that_was_never_set_up_says_so(settings: Settings, app_name: str) -> None:
    env = {
        "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "STREAMCORE_CASSANDRA__PORT": str(settings.cassandra.port),
        "STREAMCORE_CONFIG_DIR": str(EXAMPLE_CONFIG_DIR),
    }
    result = CliRunner().invoke(main, ["entity", "get", "ip", IP, "--app-name", app_name], env=env)
    assert result.exit_code == 1
    assert f"keyspace {app_name.replace('-', '_')} of application {app_name!r} does not exist" in (
        result.output
    )
    assert f"streamcore setup {EXAMPLE_CONFIG_DIR} --app-name {app_name}" in result.output
    tail = CliRunner().invoke(main, ["tail", "input", "--app-name", app_name], env=env)
    assert tail.exit_code == 1
    assert f"topic {app_name}.input does not exist (run `streamcore setup`)" in tail.output
