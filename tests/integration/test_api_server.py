"""``streamcore api`` as a process: uvicorn serving on a free port, ready once Kafka and
Cassandra answer, JSON access lines with request ids, a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import pytest
from api_support import API_CONFIG
from support import app_settings, wait_for

from streamcore.kafka.clients import make_admin
from streamcore.kafka.topics import ensure_topics
from streamcore.settings import Settings
from streamcore.state.cassandra import create_schema

pytestmark = [pytest.mark.kafka, pytest.mark.cassandra]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _call(port: int, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"content-type": "application/json", "x-request-id": "req-42"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data, headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, _decoded(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, _decoded(exc.read())
    except OSError:
        return 0, None


def _decoded(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        return body.decode()


def test_streamcore_api_process(
    settings: Settings, app_name: str, keyspace: str, cassandra_session: Any
) -> None:
    settings = app_settings(settings, keyspace)
    ensure_topics(make_admin(settings.kafka), settings.topics, app_name)
    create_schema(cassandra_session, keyspace)
    port, metrics_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "STREAMCORE_CASSANDRA__PORT": str(settings.cassandra.port),
        "STREAMCORE_CASSANDRA__KEYSPACE": keyspace,
        "STREAMCORE_API__PORT": str(port),
        "STREAMCORE_API__TOKEN": "t0ken",
        "STREAMCORE_METRICS__PORT": str(metrics_port),
    }
    command = [sys.executable, "-m", "streamcore.cli", "api", str(API_CONFIG)]
    process = subprocess.Popen(
        [*command, "--app-name", app_name], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: _call(port, "/readyz")[0] == 200, 60)
        body = [{"type": "ip", "id": "192.0.2.7", "attr": "note", "v": "up"}]
        assert _call(port, "/datapoints", body)[0] == 401
        assert _call(port, "/datapoints", body, token="t0ken") == (200, {"detail": "OK"})
        assert _call(port, "/")[1] == {"detail": "It works!"}
        # the role's own endpoint, as every streamcore process serves it
        wait_for(lambda: _call(metrics_port, "/readyz")[0] == 200, 10)
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics") as response:
            text = response.read().decode()
        assert "streamcore_api_datapoints_produced_total 1.0" in text
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal it caught
    assert process.returncode in (0, -signal.SIGTERM), stderr
    assert "Application shutdown complete" in stderr
    access = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    posted = [a for a in access if a["path"] == "/datapoints"]
    assert [a["status"] for a in posted] == [401, 200]
    assert {a["request_id"] for a in posted} == {"req-42"}
    assert posted[1]["route"] == "/datapoints"
