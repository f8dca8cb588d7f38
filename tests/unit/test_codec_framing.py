"""The Confluent framing against an in-memory registry: header bytes, writer schemas by id,
and the records it refuses (as ``DecodeError``s, which the worker dead-letters)."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime

import pytest
from confluent_kafka.schema_registry.error import SchemaRegistryError as ClientError

from streamcore.codec.framing import ConfluentFraming
from streamcore.codec.schemas import default_registry
from streamcore.codec.tasks import TaskDecoder, TaskEncoder
from streamcore.config.samples import example_model
from streamcore.errors import (
    DecodeError,
    RegistryUnavailableError,
    SchemaRegistryError,
    TransientError,
)
from streamcore.kafka import registry
from streamcore.kafka.registry import RegistryIds
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.settings import SchemaRegistrySettings
from streamcore.snapshot.messages import SnapshotCodec


class FakeRegistry:
    """Subjects -> {schema text: id}; ids -> schema text; counts look-ups by id."""

    def __init__(self) -> None:
        self.subjects: dict[str, dict[str, int]] = {}
        self.schemas: dict[int, str] = {}
        self.fetched = 0

    def register(self, subject: str, text: str) -> int:
        schema_id = next((i for i, t in self.schemas.items() if t == text), None)
        if schema_id is None:
            schema_id = len(self.schemas) + 100
            self.schemas[schema_id] = text
        self.subjects.setdefault(subject, {})[text] = schema_id
        return schema_id

    def id_of(self, subject: str, schema: str) -> int:
        try:
            return self.subjects[subject][schema]
        except KeyError:
            raise SchemaRegistryError(f"not registered under {subject}") from None

    def schema_of(self, schema_id: int) -> str | None:
        self.fetched += 1
        return self.schemas.get(schema_id)


TASK = "streamcore.DataPointTask"


def _task() -> DataPointTask:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    point = DataPoint("ip", "192.0.2.1", "hostname", "a.b", t1=at, t2=at, c=1.0)
    task = DataPointTask("ip", "192.0.2.1", [point])
    return example_model().validate_task(task)


def test_tasks_round_trip_with_the_schema_id_in_front() -> None:
    fake = FakeRegistry()
    schema_id = fake.register("app.input-value", default_registry().current[TASK].text)
    framing = ConfluentFraming(fake, "app.input-value")
    model = example_model()
    data = TaskEncoder(model, framing=framing).encode(_task())
    assert data[:5] == b"\x00" + schema_id.to_bytes(4, "big")
    decoder = TaskDecoder(model, framing=framing)
    assert decoder.decode(data) == _task()  # the compiled reader, after the 5-byte header
    # fastavro, with the writer schema fetched by id
    assert model.validate_task(decoder.read_reference(data)) == _task()
    assert fake.fetched == 1
    decoder.read_reference(data)
    assert fake.fetched == 1  # kept, not fetched again


def test_single_object_bytes_and_unknown_ids_are_decode_errors() -> None:
    fake = FakeRegistry()
    fake.register("app.input-value", default_registry().current[TASK].text)
    model = example_model()
    decoder = TaskDecoder(model, framing=ConfluentFraming(fake, "app.input-value"))
    with pytest.raises(DecodeError, match="not in the Confluent wire format"):
        decoder.decode(TaskEncoder(model).encode(_task()))
    with pytest.raises(DecodeError, match="schema id 7 is unknown to the registry"):
        decoder.decode(b"\x00\x00\x00\x00\x07rest")
    snapshot = json.dumps({"type": "record", "name": "Other", "fields": []})
    other = fake.register("x-value", snapshot)
    with pytest.raises(DecodeError, match="a Other message, expected streamcore.DataPointTask"):
        decoder.decode(b"\x00" + other.to_bytes(4, "big"))


def test_an_unregistered_schema_names_setup() -> None:
    codec = SnapshotCodec(framing=ConfluentFraming(FakeRegistry(), "app.snapshots-value"))
    with pytest.raises(SchemaRegistryError, match="not registered"):
        codec.encode("ip", "192.0.2.1", datetime(2026, 1, 1, tzinfo=UTC), "{}")


@pytest.mark.parametrize(
    ("raised", "transient"),
    [
        (ConnectionRefusedError("connection refused"), True),
        (TimeoutError("read timed out"), True),
        (ClientError(503, 50301, "storage unavailable"), True),
        (ClientError(401, 40101, "unauthorized"), False),
        (ClientError(422, 42201, "invalid schema"), False),
    ],
)
def test_registry_errors_the_worker_waits_out_and_those_it_stops_for(
    raised: Exception, transient: bool
) -> None:
    """No answer or a 5xx may pass (the worker retries with backoff); a refusal of ours
    (4xx) would refuse every record again: never retried, never the record's fault."""

    class Client:
        def get_schema(self, schema_id: int) -> object:
            raise raised

    ids = RegistryIds(SchemaRegistrySettings(url="http://127.0.0.1:1/apis/ccompat/v7"))
    ids.client = Client()  # type: ignore[assignment]
    with pytest.raises(SchemaRegistryError, match="schema registry at http://127.0.0.1:1") as info:
        ids.schema_of(7)
    assert isinstance(info.value, TransientError) is transient
    assert isinstance(info.value, RegistryUnavailableError) is transient


@pytest.mark.timeout(60)
def test_a_registry_that_never_answers_is_unavailable_not_a_hang(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It accepts the connection and says nothing: each request times out (the client's
    own HTTP client has no timeout), and the worker gets the error it retries."""
    monkeypatch.setattr(registry, "REQUEST_TIMEOUT_SECONDS", 0.3)
    silent = socket.create_server(("127.0.0.1", 0))
    silent.listen(16)
    try:
        port = silent.getsockname()[1]
        ids = RegistryIds(SchemaRegistrySettings(url=f"http://127.0.0.1:{port}/apis/ccompat/v7"))
        if getattr(ids.client._rest_client, "timeout", None) is None:
            pytest.skip("this confluent-kafka's registry client takes no request timeout")
        ids.client._rest_client.max_retries = 0  # one request, no backoff: a quick test
        with pytest.raises(RegistryUnavailableError, match="schema registry at"):
            ids.schema_of(7)
    finally:
        silent.close()
