"""``streamcore api`` as a replica like the others, as a real process on the dev servers:

- started before ``streamcore setup`` ran, it serves (/healthz 200), is not ready and
  answers data routes 503 naming what is missing; once setup ran it becomes ready without
  a restart, joins the control topic (``control ping`` gets a pong from role ``api``) and
  its metrics port carries the control metrics beside the per-route request metrics;
- SIGTERM while requests are in flight: a request whose body was still arriving is
  answered 200 after the signal, and every data-point acknowledged with 200 is on the
  input topic.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from api_support import API_CONFIG
from click.testing import CliRunner
from role_processes import STREAMCORE, RoleProcess, free_port, role_env
from support import app_settings, wait_for

from streamcore.cli import main
from streamcore.codec.tasks import TaskDecoder
from streamcore.config import load_config
from streamcore.kafka.reader import TopicReader
from streamcore.settings import Settings
from streamcore.setup_steps import SETUP_STEPS

pytestmark = [pytest.mark.kafka, pytest.mark.cassandra]


class ApiProcess:
    """``streamcore api`` on free ports; its log in a file."""

    def __init__(self, env: dict[str, str], app_name: str, log: Path) -> None:
        self.port, self.metrics_port = free_port(), free_port()
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(STREAMCORE), "api", str(API_CONFIG), "--app-name", app_name],
                env={
                    **env,
                    "STREAMCORE_API__PORT": str(self.port),
                    "STREAMCORE_METRICS__PORT": str(self.metrics_port),
                },
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.url = f"http://127.0.0.1:{self.port}"
        self.role = RoleProcess("api", self.process, self.metrics_port, log)

    def get(self, path: str) -> httpx.Response:
        assert self.process.poll() is None, self.log.read_text()
        return httpx.get(self.url + path, timeout=10)

    def answers(self, path: str, status: int) -> bool:
        try:
            return self.get(path).status_code == status
        except httpx.TransportError:  # not listening yet
            return False


@contextmanager
def api_process(env: dict[str, str], app_name: str, tmp_path: Path) -> Iterator[ApiProcess]:
    api = ApiProcess(env, app_name, tmp_path / "api.log")
    try:
        yield api
    finally:
        if api.process.poll() is None:
            api.process.kill()
            api.process.wait(10)


def set_up(settings: Settings, app_name: str) -> None:
    config = load_config(API_CONFIG)
    for step in SETUP_STEPS:
        step(settings, app_name, config)


def fast(settings: Settings, keyspace: str) -> Settings:
    settings = app_settings(settings, keyspace)
    control = settings.control.model_copy(update={"heartbeat_seconds": 1.0})
    return settings.model_copy(update={"control": control})


def control_ping(settings: Settings, app_name: str) -> str:
    env = {
        "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "STREAMCORE_CONTROL__HEARTBEAT_SECONDS": "1.0",
    }
    result = CliRunner().invoke(
        main, ["control", "ping", str(API_CONFIG), "--app-name", app_name], env=env
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_api_started_before_setup_becomes_ready_and_answers_control(
    settings: Settings, app_name: str, keyspace: str, tmp_path: Path
) -> None:
    settings = fast(settings, keyspace)
    with api_process(role_env(settings, keyspace), app_name, tmp_path) as api:
        wait_for(lambda: api.answers("/healthz", 200), 60)
        ready = api.get("/readyz")
        assert ready.status_code == 503
        assert any("streamcore setup" in reason for reason in ready.json()["detail"])
        for response in (
            api.get("/entity/ip/count"),
            httpx.post(api.url + "/datapoints", json=[], timeout=10),
            api.get("/telemetry/sources_validity"),
        ):
            assert response.status_code == 503, response.text
            assert "is not set up" in response.json()["detail"]
            assert f"streamcore setup {API_CONFIG.resolve()}" in response.json()["detail"]
        assert not api.role.ready()  # the metrics port: not set up, control not caught up

        set_up(settings, app_name)
        wait_for(lambda: api.answers("/readyz", 200), 60)
        wait_for(api.role.ready, 60)  # control caught up too
        assert api.get("/entity/ip/count").json() == {"total_count": 0}

        output = control_ping(settings, app_name)
        assert "(api): applied: pong" in output, output
        assert api.role.total("streamcore_control_messages_total", action="ping") >= 1
        assert api.role.total("streamcore_api_requests_total", route="/entity/{etype}/count") >= 1

        api.process.send_signal(signal.SIGTERM)
        assert api.process.wait(60) == 0, api.log.read_text()


class Load:
    """Clients posting batches of unique data-points until the server stops answering;
    what was acknowledged (200) is kept."""

    def __init__(self, url: str, clients: int = 4, batch: int = 20) -> None:
        self.url, self.batch = url, batch
        self.acknowledged: set[str] = set()
        self.statuses: set[int] = set()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(clients)]

    def _run(self, client: int) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as http:
            for n in range(1_000_000):
                values = [f"c{client}-{n}-{i}" for i in range(self.batch)]
                body = [
                    {"type": "ip", "id": f"192.0.2.{client}", "attr": "note", "v": v}
                    for v in values
                ]
                try:
                    response = http.post("/datapoints", json=body)
                except httpx.TransportError:  # the server has stopped listening
                    return
                with self._lock:
                    self.statuses.add(response.status_code)
                    if response.status_code == 200:
                        self.acknowledged.update(values)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        for thread in self.threads:
            thread.join(120)


def started_request(port: int, values: list[str]) -> tuple[socket.socket, bytes]:
    """A POST /datapoints the app is already handling, waiting for its body: sent with
    ``Expect: 100-continue``, so the server's ``100 Continue`` (sent when the app first
    reads the body) shows the request is in flight. Returns the socket and the body."""
    body = json.dumps(
        [{"type": "ip", "id": "192.0.2.200", "attr": "note", "v": v} for v in values]
    ).encode()
    head = (
        f"POST /datapoints HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(head)
    interim = b""
    while not interim.endswith(b"\r\n\r\n"):
        interim += sock.recv(1)
    assert interim.startswith(b"HTTP/1.1 100"), interim
    return sock, body


def produced_notes(settings: Settings, app_name: str) -> set[str]:
    decoder = TaskDecoder(load_config(API_CONFIG).model_spec)
    reader = TopicReader(settings.kafka.client_config(), settings.topics.name("input", app_name))
    try:
        records = reader.read_to(reader.end_offsets())
    finally:
        reader.close()
    return {
        str(dp.v) for record in records for dp in decoder.decode(record.value or b"").data_points
    }


def test_sigterm_finishes_requests_in_flight_and_loses_no_acknowledged_datapoint(
    settings: Settings, app_name: str, keyspace: str, tmp_path: Path
) -> None:
    settings = fast(settings, keyspace)
    set_up(settings, app_name)
    with api_process(role_env(settings, keyspace), app_name, tmp_path) as api:
        wait_for(lambda: api.answers("/readyz", 200), 60)
        in_flight = [f"in-flight-{i}" for i in range(50)]
        with Load(api.url) as load:
            wait_for(lambda: len(load.acknowledged) >= 200, 60)
            sock, body = started_request(api.port, in_flight)
            api.process.send_signal(signal.SIGTERM)
            wait_for(lambda: "Shutting down" in api.log.read_text(), 30)
            sock.sendall(body)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            sock.close()
        assert api.process.wait(60) == 0, api.log.read_text()
    status_line, _, tail = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 200 OK", answer
    assert tail.endswith(b'{"detail":"OK"}'), answer
    assert load.statuses == {200}, load.statuses
    produced = produced_notes(settings, app_name)
    assert set(in_flight) <= produced
    assert load.acknowledged <= produced, len(load.acknowledged - produced)
    log_lines = [line for line in api.log.read_text().splitlines() if line.startswith("{")]
    assert any(json.loads(line)["path"] == "/datapoints" for line in log_lines)
