"""The Confluent wire format against a real schema registry (Apicurio, its ccompat API).

The registry is the dev one when it answers (CI starts it: ``dev up --registry``), else one
this module starts on a free port with its own state (jar cache shared). Each test uses its
own application, so its own subjects (``<app>.input-value``, ``<app>.snapshots-value``).
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from confluent_kafka import Producer
from confluent_kafka.schema_registry import Schema as RegistrySchema
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from role_processes import free_port
from support import CONFIGS, IN_CI, application, read_topic, running, wait_for

from streamcore.cli import main
from streamcore.cli.messages import MessageDecoder
from streamcore.codec.avro import AvroCodec
from streamcore.codec.framing import ConfluentFraming
from streamcore.codec.schemas import Schema, SchemaRegistry, default_registry
from streamcore.codec.tasks import DeadLetterCodec, TaskDecoder, TaskEncoder
from streamcore.dev import DevServers, DevSettings
from streamcore.dev.registry import registry_answers, registry_url
from streamcore.errors import DevServerError, SchemaRegistryError
from streamcore.kafka.consumer import InputRecord
from streamcore.kafka.registry import RegistryIds, register_schemas, subject, topic_framing
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.module.loader import load_modules
from streamcore.producer import DataPointProducer
from streamcore.runtime import Runtime, build_ingest_worker, build_snapshot_worker, make_snapshots
from streamcore.settings import SchemaRegistrySettings, Settings
from streamcore.snapshot.messages import SNAPSHOT_SCHEMA, SnapshotCodec
from streamcore.state.snapshots import SnapshotStore

IP = "192.0.2.9"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a running registry's Confluent-compatible API."""
    dev = DevSettings()
    if registry_answers(dev.registry_port):
        yield registry_url(dev.registry_port)
        return
    own = DevSettings(
        state_dir=tmp_path_factory.mktemp("registry"),
        registry_port=free_port(),
        registry_management_port=free_port(),
        registry=True,
    )
    servers = DevServers(own)
    try:
        servers.up(("registry",))
    except DevServerError as exc:
        if IN_CI:
            pytest.fail(f"schema registry unavailable under CI: {exc}")
        pytest.skip(f"schema registry unavailable: {exc}")
    try:
        yield servers.registry_url()
    finally:
        servers.down(("registry",))


@pytest.fixture
def wire(settings: Settings, registry: str) -> Settings:
    """The test settings in the Confluent wire format."""
    chosen = SchemaRegistrySettings(wire_format="confluent", url=registry)
    return settings.model_copy(update={"schema_registry": chosen})


def load(runtime: Runtime, etype: str, eid: Any) -> Any:
    (record,) = runtime.store().load([(etype, eid)])
    return record


def os_task(ip: str, os_name: str) -> DataPointTask:
    now = datetime.now(UTC)
    return DataPointTask("ip", ip, [DataPoint("ip", ip, "os", os_name, t1=now, t2=now, c=1.0)])


def test_flow_in_the_wire_format_reads_back_with_confluents_deserializer(
    wire: Settings, registry: str, app_name: str, keyspace: str
) -> None:
    lines = register_schemas(wire, app_name)
    assert len(lines) == 2 and all(": registered (id" in line for line in lines), lines
    with application(wire, app_name, keyspace, config="snapshots") as runtime:
        with DataPointProducer(runtime.settings, app_name, runtime.config.model_spec) as p:
            p.send(os_task(IP, "linux"))
        (sent,) = read_topic(runtime.settings, runtime.topic("input"), expect=1)
        ids = RegistryIds(wire.schema_registry)
        task_text = default_registry().current["streamcore.DataPointTask"].text
        task_id = ids.id_of(subject(runtime.topic("input")), task_text)
        assert sent.value()[:5] == b"\x00" + task_id.to_bytes(4, "big")

        with running(build_ingest_worker(runtime)):
            wait_for(lambda: load(runtime, "ip", IPv4Address(IP)).attrs.get("os"))

        loaded = load_modules(runtime.config.platform_config(app_name, 0))
        worker = build_snapshot_worker(runtime, loaded.registrar.registry, trigger=False)
        store = SnapshotStore(runtime.session, keyspace, runtime.config.model_spec)
        run = make_snapshots(runtime)
        with running(worker):
            wait_for(lambda: worker.stats.runs_finalized == 1)
        assert store.progress(run)[0] == runtime.settings.snapshots.tasks_per_run

        topic = runtime.topic("snapshots")
        (published,) = read_topic(runtime.settings, topic, expect=1)
        # the producer's task and the risk module's derived one, both in the wire format
        tasks = read_topic(runtime.settings, runtime.topic("input"), expect=2)
        decoder = TaskDecoder(runtime.config.model_spec, framing=topic_framing(wire, sent.topic()))
        assert {decoder.decode(m.value()).data_points[0].attr for m in tasks} == {"os", "risk"}

    value = published.value()
    assert value[:1] == b"\x00"  # Confluent magic byte, then the schema id
    # what `streamcore tail snapshots` shows, in the format the settings name
    tail = MessageDecoder("snapshots", runtime.config.model_spec, topic_framing(wire, topic))
    shown = tail.fields(InputRecord(topic, 0, 0, published.key(), value, 0))
    assert (shown["etype"], shown["eid"], shown["values"]["os"]) == ("ip", IP, "linux"), shown
    deserialize = AvroDeserializer(SchemaRegistryClient({"url": registry, "timeout": 10}))
    snapshot = deserialize(value, SerializationContext(topic, MessageField.VALUE))
    assert (snapshot["etype"], snapshot["eid"]) == ("ip", IP)
    assert json.loads(snapshot["values"])["os"] == "linux"
    assert snapshot["time"] == run


def test_a_record_in_the_other_format_is_dead_lettered(
    wire: Settings, app_name: str, keyspace: str
) -> None:
    register_schemas(wire, app_name)
    with application(wire, app_name, keyspace, config="snapshots") as runtime:
        single_object = TaskEncoder(runtime.config.model_spec).encode(os_task("192.0.2.8", "bsd"))
        raw = Producer(runtime.settings.kafka.client_config())
        raw.produce(runtime.topic("input"), key=b"single-object", value=single_object)
        raw.flush(10)
        with DataPointProducer(runtime.settings, app_name, runtime.config.model_spec) as p:
            p.send(os_task(IP, "linux"))

        with running(build_ingest_worker(runtime)):
            wait_for(lambda: load(runtime, "ip", IPv4Address(IP)).attrs.get("os"))
            (letter,) = read_topic(runtime.settings, runtime.topic("dead_letter"), expect=1)

    decoded = DeadLetterCodec().decode(letter.value())
    assert (decoded.key, decoded.reason) == (b"single-object", "undecodable")
    assert "not in the Confluent wire format" in decoded.message
    assert decoded.value == single_object


class Forwarder:
    """A TCP relay from a local port to the registry: the registry "comes back" at an
    address that refused connections before."""

    def __init__(self, port: int, target: str) -> None:
        parsed = urlsplit(target)
        self.target = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self) -> type[socketserver.BaseRequestHandler]:
        target = self.target

        class Relay(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with socket.create_connection(target) as upstream:
                    pipe = threading.Thread(
                        target=_copy, args=(upstream, self.request), daemon=True
                    )
                    pipe.start()
                    _copy(self.request, upstream)
                    pipe.join(10)

        return Relay

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _copy(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def unreachable_registry(wire: Settings) -> tuple[int, SchemaRegistrySettings]:
    """A free port and the wire settings pointing there: nothing answers until a
    ``Forwarder`` to the real registry starts on that port."""
    port = free_port()
    url = wire.schema_registry.url
    moved = url.replace(urlsplit(url).netloc, f"127.0.0.1:{port}")
    return port, wire.schema_registry.model_copy(update={"url": moved})


def test_an_unreachable_registry_is_waited_out_not_dead_lettered(
    wire: Settings, app_name: str, keyspace: str
) -> None:
    register_schemas(wire, app_name)
    port, registry = unreachable_registry(wire)
    with application(wire, app_name, keyspace, config="snapshots") as runtime:
        with DataPointProducer(runtime.settings, app_name, runtime.config.model_spec) as p:
            p.send(os_task(IP, "linux"))
        runtime.settings = runtime.settings.model_copy(update={"schema_registry": registry})
        with running(build_ingest_worker(runtime)) as worker:
            # The batch can't be decoded: retried with backoff, the worker stays up,
            # nothing is stored, dead-lettered or committed.
            wait_for(lambda: worker.retry.failing_since is not None)
            assert "schema registry at" in worker.retry.last_failure
            assert read_topic(runtime.settings, runtime.topic("dead_letter"), expect=0) == []
            assert load(runtime, "ip", IPv4Address(IP)).attrs.get("os") is None
            relay = Forwarder(port, wire.schema_registry.url)
            try:
                wait_for(lambda: load(runtime, "ip", IPv4Address(IP)).attrs.get("os"))
                wait_for(lambda: worker.retry.failing_since is None)
            finally:
                relay.close()
        assert read_topic(runtime.settings, runtime.topic("dead_letter"), expect=0) == []


def test_a_snapshot_worker_waits_out_an_unreachable_registry(
    wire: Settings, app_name: str, keyspace: str
) -> None:
    """Publishing snapshots in the wire format needs the registry: while it can't be
    reached the run's tasks are retried with backoff (reason ``registry``), the worker
    stays up and publishes nothing; when it is back the run finishes."""
    register_schemas(wire, app_name)
    port, registry = unreachable_registry(wire)
    with application(wire, app_name, keyspace, config="snapshots") as runtime:
        with DataPointProducer(runtime.settings, app_name, runtime.config.model_spec) as p:
            p.send(os_task(IP, "linux"))
        with running(build_ingest_worker(runtime)):
            wait_for(lambda: load(runtime, "ip", IPv4Address(IP)).attrs.get("os"))
        runtime.settings = runtime.settings.model_copy(update={"schema_registry": registry})
        loaded = load_modules(runtime.config.platform_config(app_name, 0))
        worker = build_snapshot_worker(runtime, loaded.registrar.registry, trigger=False)
        make_snapshots(runtime)
        with running(worker):
            wait_for(lambda: worker.retry.failing_since is not None)
            assert worker.retry.last_failure.startswith("registry: "), worker.retry.last_failure
            assert read_topic(runtime.settings, runtime.topic("snapshots"), expect=0) == []
            relay = Forwarder(port, wire.schema_registry.url)
            try:
                wait_for(lambda: worker.stats.runs_finalized == 1)
                wait_for(lambda: worker.retry.failing_since is None)
            finally:
                relay.close()
        (published,) = read_topic(runtime.settings, runtime.topic("snapshots"), expect=1)
        assert published.value()[:1] == b"\x00"


def _snapshot_schema(*extra: dict[str, Any]) -> Schema:
    base = json.loads(default_registry().current[SNAPSHOT_SCHEMA].text)
    return Schema.from_json({**base, "fields": [*base["fields"], *extra]})


def test_schema_evolution_through_the_registry(wire: Settings, app_name: str) -> None:
    register_schemas(wire, app_name)  # v1: the shipped Snapshot schema
    name = subject(wire.topics.name("snapshots", app_name))
    ids = RegistryIds(wire.schema_registry)
    framing = ConfluentFraming(ids, name)
    run = datetime.now(UTC).replace(microsecond=0)
    old = SnapshotCodec(framing=framing).encode("ip", IP, run, '{"os": "linux"}')

    # A compatible v2 (a new field with a default) is accepted under BACKWARD ...
    v2 = _snapshot_schema({"name": "source", "type": "string", "default": "streamcore"})
    assert "registered" in ids.register(name, v2, "BACKWARD")
    v2_registry = SchemaRegistry()
    v2_registry.add(v2, current=True)
    reader = AvroCodec(v2_registry, SNAPSHOT_SCHEMA, ConfluentFraming(ids, name))
    # ... and a v2 reader still reads the v1 record, the new field at its default.
    assert reader.decode(old) == {
        "etype": "ip",
        "eid": IP,
        "time": run,
        "values": '{"os": "linux"}',
        "source": "streamcore",
    }
    new = reader.encode({"etype": "ip", "eid": IP, "time": run, "values": "{}", "source": "x"})
    assert new[:5] != old[:5]  # another schema id
    assert reader.decode(new)["source"] == "x"

    # An incompatible v3 (a new field without a default) is refused by the registry.
    v3 = _snapshot_schema({"name": "owner", "type": "string"})
    with pytest.raises(SchemaRegistryError, match=r"refused streamcore\.Snapshot as incompatible"):
        ids.register(name, v3, "BACKWARD")


def test_setup_registers_idempotently_and_reports_a_refused_schema(
    wire: Settings, registry: str, app_name: str, keyspace: str, tmp_path: Path
) -> None:
    def setup() -> Any:
        env = {
            "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": wire.kafka.bootstrap_servers,
            "STREAMCORE_CASSANDRA__PORT": str(wire.cassandra.port),
            "STREAMCORE_CASSANDRA__KEYSPACE": keyspace,
            "STREAMCORE_SCHEMA_REGISTRY__WIRE_FORMAT": "confluent",
            "STREAMCORE_SCHEMA_REGISTRY__URL": registry,
        }
        config = str(CONFIGS / "snapshots")
        return CliRunner().invoke(main, ["setup", config, "--app-name", app_name], env=env)

    input_subject = subject(wire.topics.name("input", app_name))
    snapshots_subject = subject(wire.topics.name("snapshots", app_name))
    client = SchemaRegistryClient({"url": registry, "timeout": 10})
    # Something else already registered under the snapshots subject, that the shipped
    # Snapshot schema can't read (BACKWARD): setup must say so, not pass.
    narrow = {"type": "record", "name": "Snapshot", "namespace": "streamcore", "fields": []}
    client.register_schema(snapshots_subject, RegistrySchema(json.dumps(narrow), "AVRO"))

    refused = setup()
    assert refused.exit_code == 1, refused.output
    assert f"error: {snapshots_subject}: the registry refused streamcore.Snapshot" in (
        refused.output
    )
    assert "incompatible" in refused.output
    assert client.get_versions(input_subject) == [1]  # the subject before it went in

    client.delete_subject(snapshots_subject, permanent=False)
    client.delete_subject(snapshots_subject, permanent=True)
    first = setup()
    assert first.exit_code == 0, first.output
    assert f"schema {input_subject}: exists" in first.output
    assert f"schema {snapshots_subject}: registered" in first.output
    again = setup()
    assert again.exit_code == 0, again.output
    assert f"schema {snapshots_subject}: exists" in again.output
    assert client.get_compatibility(snapshots_subject) == "BACKWARD"
    assert client.get_versions(snapshots_subject) == [1]


def test_the_http_api_produces_in_the_wire_format(
    wire: Settings, registry: str, app_name: str, keyspace: str
) -> None:
    """POST /datapoints with the Confluent wire format chosen: the task on the input topic
    carries the registry's id of the task schema, and Confluent's deserializer reads it."""
    from api_support import api_harness

    register_schemas(wire, app_name)
    body = [{"type": "ip", "id": IP, "attr": "note", "v": "framed"}]
    with api_harness(wire, app_name, keyspace) as harness:
        response = harness.client.post("/datapoints", json=body)
        assert response.status_code == 200, response.text
        topic = harness.settings.topics.name("input", app_name)
        (sent,) = read_topic(harness.settings, topic, expect=1)
    ids = RegistryIds(wire.schema_registry)
    task_text = default_registry().current["streamcore.DataPointTask"].text
    assert sent.value()[:5] == b"\x00" + ids.id_of(subject(topic), task_text).to_bytes(4, "big")
    deserialize = AvroDeserializer(SchemaRegistryClient({"url": registry, "timeout": 10}))
    task = deserialize(sent.value(), SerializationContext(topic, MessageField.VALUE))
    assert (task["etype"], task["eid"]) == ("ip", IP)
    assert [dp["attr"] for dp in task["data_points"]] == ["note"]
