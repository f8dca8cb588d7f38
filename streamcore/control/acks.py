"""What replicas say back on ``<app>.control-acks``: acknowledgements and heartbeats.

Every replica (ingestion worker, snapshot worker, ...) publishes:

- a **heartbeat** every ``ControlSettings.heartbeat_seconds``, carrying the module config
  versions it runs: a replica is *live* while its last heartbeat is younger than
  ``live_heartbeats`` intervals (``streamcore control`` waits for exactly those);
- an **ack** per control message it handled, naming the message by its control-topic
  offset, with the outcome (applied, skipped: not this process's job, failed: why);
- **leaving** when it stops cleanly, so it is not waited for until its heartbeat ages out.

Avro (``schemas/control_ack.avsc``), single-object encoded like every streamcore message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

from streamcore.codec.avro import AvroCodec
from streamcore.codec.schemas import SchemaRegistry, default_registry
from streamcore.errors import RawRecord

ACK_SCHEMA = "streamcore.ControlAck"


class AckKind(Enum):
    UNKNOWN = "unknown"
    ACK = "ack"
    HEARTBEAT = "heartbeat"
    LEAVING = "leaving"


class Outcome(Enum):
    """What a replica did with a control message."""

    UNKNOWN = "unknown"
    APPLIED = "applied"
    SKIPPED = "skipped"
    """Not this process's job (e.g. ``make_snapshots`` on an ingestion worker)."""
    FAILED = "failed"


@dataclass(slots=True)
class ControlAck:
    replica: str
    role: str
    kind: AckKind
    offset: int = -1
    action: str = ""
    outcome: Outcome = Outcome.UNKNOWN
    detail: str = ""
    config_versions: dict[str, int] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class AckCodec:
    """``ControlAck`` <-> bytes."""

    def __init__(self, registry: SchemaRegistry | None = None) -> None:
        self.codec = AvroCodec(registry or default_registry(), ACK_SCHEMA)

    def encode(self, ack: ControlAck) -> bytes:
        return self.codec.encode(
            {
                "replica": ack.replica,
                "role": ack.role,
                "kind": ack.kind.value,
                "offset": ack.offset,
                "action": ack.action,
                "outcome": ack.outcome.value,
                "detail": ack.detail,
                "config_versions": ack.config_versions,
                "at": ack.at,
            }
        )

    def decode(self, data: bytes, record: RawRecord | None = None) -> ControlAck:
        d = self.codec.decode(data, record)
        return ControlAck(
            replica=d["replica"],
            role=d["role"],
            kind=AckKind(d["kind"]),
            offset=d["offset"],
            action=d["action"],
            outcome=Outcome(d["outcome"]),
            detail=d["detail"],
            config_versions=dict(d["config_versions"]),
            at=d["at"],
        )
