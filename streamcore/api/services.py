"""What the routes use, built once per process: reads, the publisher, control, readiness.

``Readiness`` asks Kafka and Cassandra every ``interval`` seconds on its own thread and
keeps the answer, so ``/readyz`` and the routes' fast "unavailable" check never block on
a dead server (a route still answers 503 on its own timeout if the server dies between
two checks). One of the checks is "set up": until ``streamcore setup`` created the
application's topics and keyspace, ``ApiServices.reads`` raises ``NotSetUpError`` (a 503
naming what is missing); the first check that finds them opens the reads, so the process
becomes ready without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from streamcore.api.archive import RawArchive
from streamcore.api.publisher import Publisher
from streamcore.config import AppConfig
from streamcore.control.sender import SendResult
from streamcore.errors import StreamcoreError
from streamcore.model.control import ControlMessage
from streamcore.settings import Settings
from streamcore.state.reads import EntityReads

log = logging.getLogger(__name__)

Check = Callable[[], None]
"""Raises when its server is unreachable."""


class NotSetUpError(StreamcoreError):
    """The application's topics or keyspace do not exist yet (``streamcore setup`` not run)."""


class Readiness:
    """The last answer of each server check (``None``: reachable, else why not)."""

    def __init__(self, checks: dict[str, Check], interval: float = 2.0) -> None:
        self._checks = checks
        self._interval = interval
        self.state: dict[str, str | None] = dict.fromkeys(checks, "not checked yet")
        self.on_check: list[Callable[[], None]] = []
        """Called after every round of checks (the process's liveness beat)."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="api-readiness", daemon=True)

    def add(self, name: str, check: Check) -> None:
        """One more check, run after the others (before ``start``)."""
        self._checks[name] = check
        self.state[name] = "not checked yet"

    def check_now(self) -> None:
        for name, check in self._checks.items():
            try:
                check()
            except NotSetUpError as exc:
                self.state[name] = str(exc)
            except Exception as exc:  # any failure means "not reachable", said in /readyz
                self.state[name] = f"{name} unreachable: {exc}"
            else:
                self.state[name] = None
        for callback in self.on_check:
            callback()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.check_now()

    def start(self) -> None:
        self.check_now()
        self._thread.start()

    def close(self) -> None:
        self._stop.set()

    def problems(self) -> list[str]:
        return [reason for reason in self.state.values() if reason]

    def down(self, name: str) -> str | None:
        return self.state.get(name)


API_TABLES = (
    "entity_state",
    "entity_index",
    "entity_links_to",
    "snapshots",
    "latest_snapshots",
    "snapshot_runs",
    "snapshot_run_tasks",
    "source_validity",
    "raw_datapoints",
)
"""The tables the API's reads are prepared against (created by ``streamcore setup``)."""


def missing_setup(admin: Any, session: Any, settings: Settings, app_name: str) -> str | None:
    """What ``streamcore setup`` has not created yet for ``app_name`` (its topics, its
    keyspace's tables; read from the clients' metadata), or None."""
    from streamcore.kafka.topics import existing_topics, planned_topics

    planned = set(planned_topics(settings.topics, app_name))
    missing = sorted(planned - existing_topics(admin, 2.0))
    parts = []
    if len(missing) == len(planned):
        parts.append(f"none of its topics ({app_name}.*) exist")
    elif missing:
        parts.append(f"topics {', '.join(missing)} do not exist")
    keyspace = settings.cassandra.keyspace
    found = session.cluster.metadata.keyspaces.get(keyspace.lower())
    if found is None:
        parts.append(f"keyspace {keyspace} does not exist")
    else:
        tables = [table for table in API_TABLES if table not in found.tables]
        if tables:
            parts.append(f"keyspace {keyspace} has no tables {', '.join(tables)}")
    if not parts:
        return None
    return f"application {app_name!r} is not set up ({'; '.join(parts)})"


class ControlGateway:
    """Sends a control message on the control topic and waits (bounded) for the acks."""

    def __init__(
        self,
        settings: Settings,
        app_name: str,
        send: Callable[[ControlMessage, str, float], SendResult],
    ) -> None:
        self.settings = settings
        self.app_name = app_name
        self._send = send

    def send(self, message: ControlMessage, key: str, timeout: float) -> SendResult:
        return self._send(message, key, timeout)


def kafka_control_sender(
    settings: Settings, app_name: str
) -> Callable[[ControlMessage, str, float], SendResult]:
    """The CLI's control sending (``streamcore control``), one call per request."""
    from streamcore.control.sender import ControlSender
    from streamcore.control.signing import ControlSignature
    from streamcore.kafka.clients import DeliveryReport, make_producer
    from streamcore.kafka.consumer import Headers
    from streamcore.kafka.reader import TopicReader

    topic = settings.topics.name("control", app_name)
    window = timedelta(
        seconds=settings.control.heartbeat_seconds * settings.control.live_heartbeats
    )
    lock = threading.Lock()

    def send(message: ControlMessage, key: str, timeout: float) -> SendResult:
        reports: list[DeliveryReport] = []
        producer = make_producer(settings.kafka, reports.append, **{"linger.ms": 0})

        def produce(key_bytes: bytes, value: bytes, headers: Headers) -> DeliveryReport:
            producer.produce(topic, key_bytes, value, headers)
            if producer.flush(timeout) or not reports:
                raise TimeoutError("the control topic did not acknowledge the message")
            return reports[-1]

        start_ms = int((time.time() - window.total_seconds()) * 1000)
        with lock:  # one control exchange at a time per process
            acks = TopicReader(
                settings.kafka.client_config(),
                settings.topics.name("control_acks", app_name),
                start_ms,
            )
            try:
                signature = ControlSignature.from_settings(settings.control, topic)
                sender = ControlSender(produce, acks, window, signature)
                return sender.send(message, key, wait=True, timeout=timeout)
            finally:
                acks.close()

    return send


@dataclass
class ApiServices:
    settings: Settings
    config: AppConfig
    config_dir: Path
    app_name: str
    publisher: Publisher
    control: ControlGateway
    readiness: Readiness
    archive: RawArchive
    raw_retention_seconds: int
    lag: Callable[[str, str], dict[str, Any]]
    """(consumer group, topic) -> lag report (``kafka.lag.group_lag``)."""
    closers: list[Callable[[], None]] = field(default_factory=list)
    not_set_up: str | None = "streamcore setup not checked yet"
    """What ``streamcore setup`` still has to create (None once it ran)."""
    _reads: EntityReads | None = None

    @property
    def reads(self) -> EntityReads:
        """The Cassandra reads; ``NotSetUpError`` until the application is set up."""
        if self._reads is None:
            raise NotSetUpError(self.not_set_up or "streamcore setup not checked yet")
        return self._reads

    def is_set_up(self) -> bool:
        return self._reads is not None

    def setup_check(
        self, missing: Callable[[], str | None], open_reads: Callable[[], EntityReads]
    ) -> Check:
        """A readiness check: raises ``NotSetUpError`` while ``missing()`` names something;
        the first time nothing is missing, opens the reads (then it costs nothing)."""

        def check() -> None:
            if self._reads is not None:
                return
            problem = missing()
            if problem is not None:
                self.not_set_up = (
                    f"{problem}: run `streamcore setup {self.config_dir} "
                    f"--app-name {self.app_name}`"
                )
                raise NotSetUpError(self.not_set_up)
            self._reads = open_reads()
            self.not_set_up = None

        return check

    def require_set_up(self) -> None:
        """Raises ``NotSetUpError`` (a 503) until the application is set up."""
        if self._reads is None:
            raise NotSetUpError(self.not_set_up or "streamcore setup not checked yet")

    def start(self) -> None:
        """The background threads: producer polling, readiness checks, raw archive."""
        self.publisher.start()
        self.readiness.start()
        self.archive.start()

    def close(self) -> None:
        for close in reversed(self.closers):
            try:
                close()
            except Exception:  # closing the rest matters more than this one's failure
                log.exception("closing an API service failed")
