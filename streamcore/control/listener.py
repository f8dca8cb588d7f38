"""The control listener: every replica reads the whole control topic and acknowledges.

Lifecycle, on the thread that runs the process's hooks:

1. ``start()`` catches up: it reads the control topic (one partition, kept forever) to
   its current end without acting on anything but module configurations: for each
   module, the latest ``refresh_module_config`` or ``reset_module_config`` wins (if the
   module refuses it, the one before, and so on, which is what the live replicas ended up
   running), unless the module's file changed since that refresh was sent: then the file
   wins (``streamcore.control.modules``, precedence). Old
   snapshots, pings and entity refreshes are not replayed. So a restarted replica
   applies each refresh at most once, never out of order, and runs the latest config;
2. ``poll()`` (the worker calls it between batches) handles new messages in topic
   order, acknowledges each on the ack topic, and publishes a heartbeat when one is due;
   ``serve(stopping)`` is the same as a loop, for processes without a batch loop;
3. ``close()`` says *leaving* and flushes.

Positions live in memory: the replica reads from the start of the topic on every start
(control messages are rare; the topic is small), which is what makes step 1 possible.

With a ``ControlSignature`` (``STREAMCORE_CONTROL__SECRET``), a message that is unsigned,
badly signed or a replayed copy (see ``streamcore.control.signing``) is refused before it
is decoded or acted on, in step 1 as in step 2: never applied, never part of the catch-up
history; counted (``ControlObserver.message_refused``), acknowledged as failed when it
arrives live, and logged once per episode (the first refusal, then a count when valid
messages flow again) so a flood of forgeries can't flood the log.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from streamcore.codec.tasks import ControlCodec
from streamcore.control.acks import AckCodec, AckKind, ControlAck, Outcome
from streamcore.control.actions import ControlActions
from streamcore.control.modules import ModuleConfigs
from streamcore.control.signing import ControlSignature, ReplayGuard
from streamcore.errors import DecodeError, RawRecord
from streamcore.kafka.consumer import InputRecord
from streamcore.model.control import ControlAction, ControlMessage

log = logging.getLogger(__name__)


class ControlSource(Protocol):
    def end_offsets(self) -> dict[int, int]: ...
    def read_to(self, ends: dict[int, int], timeout: float = 30.0) -> list[InputRecord]: ...
    def poll(self, timeout: float, max_records: int = 500) -> list[InputRecord]: ...
    def close(self) -> None: ...


class AckSink(Protocol):
    def produce(self, topic: str, key: bytes, value: bytes) -> None: ...
    def poll(self, timeout: float = 0.0) -> int: ...
    def flush(self, timeout: float | None = None) -> int: ...


class ControlObserver(Protocol):
    def handled(self, action: str, outcome: str) -> None: ...
    def config_version(self, module: str, version: int) -> None: ...
    def config_refused(self, module: str) -> None: ...
    def message_refused(self, reason: str) -> None: ...


class ControlListener:
    def __init__(
        self,
        *,
        source: ControlSource,
        acks: AckSink,
        ack_topic: str,
        actions: ControlActions,
        configs: ModuleConfigs,
        replica: str,
        heartbeat_seconds: float = 5.0,
        observer: ControlObserver | None = None,
        signature: ControlSignature | None = None,
    ) -> None:
        self.replica = replica
        self.caught_up = False
        self.next_offset = 0
        self._source = source
        self._acks = acks
        self._ack_topic = ack_topic
        self.actions = actions
        self.configs = configs
        self._heartbeat_seconds = heartbeat_seconds
        self._next_heartbeat = 0.0
        self._observer = observer
        self._control_codec = ControlCodec()
        self._ack_codec = AckCodec()
        self._signature = signature
        self._replays = ReplayGuard()
        self._refusals = 0
        """Refused since the last accepted message (the current episode)."""

    def start(self) -> None:
        """Catch up with the control topic (see the module docstring, step 1)."""
        if self._signature is None:
            log.warning(
                "control: messages are not authenticated: anyone who can write %s can "
                "reconfigure modules (set STREAMCORE_CONTROL__SECRET to sign and verify them)",
                getattr(self._source, "topic", "the control topic"),
            )
        refreshes: dict[str, list[tuple[int, ControlMessage]]] = {}
        for record in self._source.read_to(self._source.end_offsets(), timeout=60):
            self.next_offset = record.offset + 1
            message = self._decode(record, replay=True)
            if message is not None and message.action in _CONFIG_ACTIONS:
                refreshes.setdefault(message.payload.get("module", ""), []).append(
                    (record.offset, message)
                )
        self.configs.catching_up = True  # a refresh over an older file loses to the file
        try:
            for history in refreshes.values():
                for offset, message in reversed(history):
                    if self._handle(message, offset) is not Outcome.FAILED:
                        break
        finally:
            self.configs.catching_up = False
        if self._observer is not None:
            for module, version in self.configs.versions.items():
                self._observer.config_version(module, version)
        self.caught_up = True
        log.info(
            "control: caught up at offset %d; config versions %s",
            self.next_offset,
            self.configs.versions,
        )
        self._heartbeat(AckKind.HEARTBEAT)

    def poll(self, timeout: float = 0.0) -> int:
        """Handle the control messages that arrived; heartbeat if due. Returns how many."""
        handled = 0
        for record in self._source.poll(timeout):
            self.next_offset = record.offset + 1
            message = self._decode(record, replay=False)
            if message is not None:
                self._handle(message, record.offset)
            handled += 1
        if time.monotonic() >= self._next_heartbeat:
            self._heartbeat(AckKind.HEARTBEAT)
        self._acks.poll(0)
        return handled

    def serve(self, stopping: threading.Event, timeout: float = 0.5) -> None:
        """``poll`` until ``stopping`` is set (for processes without a batch loop)."""
        while not stopping.is_set():
            self.poll(timeout)

    def close(self) -> None:
        self._heartbeat(AckKind.LEAVING)
        self._acks.flush(5)
        self._source.close()

    def _decode(self, record: InputRecord, replay: bool) -> ControlMessage | None:
        """The message of ``record``, or None when it is unreadable or refused."""
        raw = RawRecord(record.topic, record.partition, record.offset, record.key, record.value)
        if self._signature is not None:
            reason = self._signature.refusal(record.value or b"", record.headers)
            if reason is not None:
                self._refuse(record.offset, reason, replay)
                return None
        try:
            if record.value is None:
                raise DecodeError("empty control message", raw)
            message = self._control_codec.decode(record.value, raw)
        except DecodeError as exc:
            log.error("control message at offset %d unreadable: %s", record.offset, exc)
            if not replay:
                self._ack(record.offset, "unknown", Outcome.FAILED, f"unreadable: {exc}")
            return None
        if self._signature is not None:
            reason = self._replays.refusal(message)
            if reason is not None:
                self._refuse(record.offset, reason, replay, message.action.value)
                return None
        if self._refusals:
            log.warning(
                "control: %d control messages refused before offset %d",
                self._refusals,
                record.offset,
            )
            self._refusals = 0
        return message

    def _refuse(self, offset: int, reason: str, replay: bool, action: str = "unknown") -> None:
        """Count, log (once per episode) and, live, acknowledge a refused message."""
        if self._refusals == 0:
            log.error(
                "control: refused the message at offset %d (%s): not applied; further "
                "refusals are only counted (streamcore_control_refused_total) until a valid "
                "message arrives",
                offset,
                reason,
            )
        self._refusals += 1
        if self._observer is not None:
            self._observer.message_refused(reason)
        if not replay:
            self._ack(offset, action, Outcome.FAILED, f"refused: {reason}")

    def _handle(self, message: ControlMessage, offset: int) -> Outcome:
        action = message.action.value
        log.info("control: %s (offset %d) %s", action, offset, _arguments(message))
        outcome, detail = self.actions.run(message, offset)
        if message.action is ControlAction.PING and outcome is Outcome.APPLIED:
            described = self.configs.describe()
            detail = f"{detail}: {described}" if described else detail
        level = logging.ERROR if outcome is Outcome.FAILED else logging.INFO
        log.log(level, "control: %s (offset %d) %s: %s", action, offset, outcome.value, detail)
        if self._observer is not None:
            self._observer.handled(action, outcome.value)
            module = message.payload.get("module", "")
            if message.action in _CONFIG_ACTIONS and module:
                if outcome is Outcome.APPLIED:
                    self._observer.config_version(module, self.configs.versions[module])
                elif outcome is Outcome.FAILED:
                    self._observer.config_refused(module)
        self._ack(offset, action, outcome, detail)
        return outcome

    def _ack(self, offset: int, action: str, outcome: Outcome, detail: str) -> None:
        self._send(
            ControlAck(
                self.replica,
                self.actions.role,
                AckKind.ACK,
                offset,
                action,
                outcome,
                detail,
                dict(self.configs.versions),
            )
        )

    def _heartbeat(self, kind: AckKind) -> None:
        self._next_heartbeat = time.monotonic() + self._heartbeat_seconds
        self._send(
            ControlAck(
                self.replica,
                self.actions.role,
                kind,
                self.next_offset,
                config_versions=dict(self.configs.versions),
            )
        )

    def _send(self, ack: ControlAck) -> None:
        self._acks.produce(self._ack_topic, self.replica.encode(), self._ack_codec.encode(ack))
        self._acks.poll(0)


_CONFIG_ACTIONS = frozenset(
    {ControlAction.REFRESH_MODULE_CONFIG, ControlAction.RESET_MODULE_CONFIG}
)


def _arguments(message: ControlMessage) -> str:
    shown = {k: (v if k != "config" else f"<{len(v)} chars>") for k, v in message.payload.items()}
    return " ".join(f"{k}={v}" for k, v in sorted(shown.items()))
