"""In-memory stand-ins for the control topic and the ack producer, for the control unit tests."""

from __future__ import annotations

from streamcore.codec.tasks import ControlCodec
from streamcore.control.acks import AckCodec, ControlAck
from streamcore.kafka.consumer import Headers, InputRecord
from streamcore.model.control import ControlMessage


class ControlTopic:
    """The control topic in memory, read as ControlListener reads it; each record keeps the
    headers it was produced with."""

    def __init__(self, name: str = "app.control") -> None:
        self.name = name
        self.records: list[InputRecord] = []
        self.read = 0

    @classmethod
    def holding(cls, messages: list[ControlMessage]) -> ControlTopic:
        topic = cls()
        for message in messages:
            topic.append(ControlCodec().encode(message), None)
        return topic

    def append(self, value: bytes, headers: Headers | None) -> None:
        self.records.append(InputRecord(self.name, 0, len(self.records), None, value, 0, headers))

    def end_offsets(self) -> dict[int, int]:
        return {0: len(self.records)}

    def read_to(self, ends: dict[int, int], timeout: float = 30.0) -> list[InputRecord]:
        self.read = ends[0]
        return self.records[: ends[0]]

    def poll(self, timeout: float, max_records: int = 500) -> list[InputRecord]:
        new, self.read = self.records[self.read :], len(self.records)
        return new

    def close(self) -> None:
        pass


class AckSink:
    """The ack producer: keeps every ack it was given, decoded."""

    def __init__(self) -> None:
        self.acks: list[ControlAck] = []

    def produce(self, topic: str, key: bytes, value: bytes) -> None:
        self.acks.append(AckCodec().decode(value))

    def poll(self, timeout: float = 0.0) -> int:
        return 0

    def flush(self, timeout: float | None = None) -> int:
        return 0
