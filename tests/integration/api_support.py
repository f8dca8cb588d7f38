"""An API on the real servers for the API tests: topics, tables, services, a client.

The app runs in-process behind Starlette's ``TestClient`` (requests go through the ASGI
app; Kafka and Cassandra behind it are the real dev servers).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from support import CONFIGS, app_settings, running

from streamcore.api import create_app
from streamcore.api.server import build_services
from streamcore.api.services import ApiServices
from streamcore.config import load_config
from streamcore.kafka.clients import make_admin
from streamcore.kafka.topics import ensure_topics
from streamcore.settings import ApiSettings, LimitsSettings, Settings
from streamcore.state.cassandra import create_schema
from streamcore.state.session import open_session
from streamcore.state.snapshots import SnapshotStore

API_CONFIG = CONFIGS / "api"


@dataclass
class ApiHarness:
    client: TestClient
    services: ApiServices
    settings: Settings
    app_name: str
    session: Any

    def snapshot(self, etype: str, docs: dict[str, dict[str, Any]], time: datetime) -> None:
        """Store snapshots as the snapshot worker does (``SnapshotStore.save``)."""
        import json

        store = SnapshotStore(
            self.session, self.settings.cassandra.keyspace, self.services.config.model_spec
        )
        rows = [(etype, eid, json.dumps({"eid": eid, **doc})) for eid, doc in docs.items()]
        store.save(rows, time, 3600)


@contextmanager
def ingest_worker(harness: ApiHarness) -> Iterator[None]:
    """A real ingestion worker of the harness's application, running in a thread."""
    from streamcore.runtime import build_ingest_worker, open_runtime

    runtime = open_runtime(harness.settings, harness.services.config, harness.app_name)
    try:
        with running(build_ingest_worker(runtime)):
            yield
    finally:
        runtime.close()


@contextmanager
def api_harness(
    settings: Settings,
    app_name: str,
    keyspace: str,
    limits: LimitsSettings | None = None,
    **api: Any,
) -> Iterator[ApiHarness]:
    settings = app_settings(settings, keyspace).model_copy(
        update={"api": ApiSettings(**api), "limits": limits or settings.limits}
    )
    ensure_topics(make_admin(settings.kafka), settings.topics, app_name)
    session = open_session(settings.cassandra)
    create_schema(session, keyspace)
    services = build_services(settings, load_config(API_CONFIG), API_CONFIG, app_name)
    services.start()
    try:
        with TestClient(create_app(services)) as client:
            yield ApiHarness(client, services, settings, app_name, session)
    finally:
        services.close()
        session.cluster.shutdown()


def now_iso(offset_seconds: float = 0) -> str:
    return datetime.fromtimestamp(datetime.now(UTC).timestamp() + offset_seconds, UTC).isoformat()


class TcpProxy:
    """Forwards a local port to ``target``; ``cut()`` closes it and every connection, so
    the client behind it sees its server vanish (the shared server keeps running)."""

    def __init__(self, target: tuple[str, int]) -> None:
        import socket
        import threading

        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[Any] = []
        self._open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while self._open:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open:
                client.close()
                return
            server = socket.create_connection(self._target)
            self._sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: Any, sink: Any) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with suppress(OSError):
                    sock.close()

    def cut(self) -> None:
        import socket

        self._open = False
        self._listener.close()
        for sock in self._sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            except OSError:
                pass
