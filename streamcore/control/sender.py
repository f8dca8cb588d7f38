"""Sending a control message and waiting until every live replica acknowledged it.

The sender's view of the cluster comes from the ack topic alone: before sending, it
reads the last ``live_window`` of heartbeats; a replica whose last word in that window
is a heartbeat or an ack (not *leaving*) is live, and is waited for. Then it sends the
message (its offset on the control topic is its id), and follows the ack topic until
each awaited replica acknowledged that offset, or said it is leaving, or ``timeout``
passed: the result names the replicas that did not answer. Replicas that were not live
when the message was sent but acknowledge it anyway (one that just started and
replayed a config refresh) are reported too. With a ``ControlSignature`` the message goes
out signed (the ``streamcore-signature`` header; see ``streamcore.control.signing``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from streamcore.codec.tasks import ControlCodec
from streamcore.control.acks import AckCodec, AckKind, ControlAck, Outcome
from streamcore.control.listener import ControlSource
from streamcore.control.signing import ControlSignature
from streamcore.errors import DecodeError, StreamcoreError
from streamcore.kafka.clients import DeliveryReport
from streamcore.kafka.consumer import Headers, InputRecord
from streamcore.model.control import ControlMessage

Send = Callable[[bytes, bytes, Headers], DeliveryReport]
"""Produces (key, value, headers) to the control topic and waits for its delivery report."""


@dataclass
class SendResult:
    offset: int
    awaited: dict[str, str]
    """Replica -> role, the replicas that were live when the message was sent."""
    acks: dict[str, ControlAck] = field(default_factory=dict)
    left: set[str] = field(default_factory=set)

    @property
    def missing(self) -> list[str]:
        return sorted(set(self.awaited) - set(self.acks) - self.left)

    @property
    def failed(self) -> list[str]:
        return sorted(r for r, ack in self.acks.items() if ack.outcome is Outcome.FAILED)

    def by_role(self) -> dict[str, dict[str, list[str]]]:
        """Role -> outcome (applied, skipped, failed, and ``no answer``/``left``) -> the
        replicas, sorted: which replicas of each role applied the message."""
        roles: dict[str, dict[str, list[str]]] = {}
        for replica, ack in sorted(self.acks.items()):
            roles.setdefault(ack.role, {}).setdefault(ack.outcome.value, []).append(replica)
        for replica in sorted(self.left):
            roles.setdefault(self.awaited[replica], {}).setdefault("left", []).append(replica)
        for replica in self.missing:
            role = self.awaited[replica]
            roles.setdefault(role, {}).setdefault("no answer", []).append(replica)
        return dict(sorted(roles.items()))


def live_replicas(acks: list[ControlAck], since: datetime) -> dict[str, str]:
    """Replica -> role of those whose last word at or after ``since`` is not *leaving*."""
    last: dict[str, ControlAck] = {}
    for ack in acks:
        if ack.at >= since:
            last[ack.replica] = ack
    return {name: ack.role for name, ack in last.items() if ack.kind is not AckKind.LEAVING}


class ControlSender:
    """Sends control messages; ``acks`` must be a reader of the ack topic that starts at
    least ``live_window`` before now (``TopicReader(..., start=now_ms - window_ms)``)."""

    def __init__(
        self,
        send: Send,
        acks: ControlSource,
        live_window: timedelta,
        signature: ControlSignature | None = None,
    ) -> None:
        self._send = send
        self._signature = signature
        self._acks = acks
        self._live_window = live_window
        self._codec = ControlCodec()
        self._ack_codec = AckCodec()

    def send(
        self, message: ControlMessage, key: str, *, wait: bool = True, timeout: float = 30.0
    ) -> SendResult:
        now = datetime.now(UTC)
        history = self._decode(self._acks.read_to(self._acks.end_offsets()))
        awaited = live_replicas(history, now - self._live_window) if wait else {}
        value = self._codec.encode(message)
        headers = self._signature.headers(value) if self._signature else []
        report = self._send(key.encode(), value, headers)
        if report.error is not None:
            raise StreamcoreError(f"sending the control message failed: {report.error}")
        result = SendResult(report.offset, awaited)
        deadline = time.monotonic() + timeout
        while result.missing and time.monotonic() < deadline:
            for ack in self._decode(self._acks.poll(0.5)):
                if ack.kind is AckKind.ACK and ack.offset == result.offset:
                    result.acks[ack.replica] = ack
                elif ack.kind is AckKind.LEAVING and ack.replica not in result.acks:
                    result.left.add(ack.replica)
        return result

    def _decode(self, records: list[InputRecord]) -> list[ControlAck]:
        acks = []
        for record in records:
            if record.value is None:
                continue
            try:
                acks.append(self._ack_codec.decode(record.value))
            except DecodeError:
                continue  # a newer replica's message kind; not ours to judge
        return acks
