"""Bring the dev servers up, report their state, take them down.

``up`` is idempotent: a server already running (our pid file, our marker) is reused; one
whose port answers but that we did not start is reported, never touched. Both servers boot
in parallel and readiness is polled, not slept for. A secure pair (``SecureDevSettings``)
is probed the way its clients connect: SASL_SSL and password + TLS (``kafka_settings`` and
``cassandra_settings`` give those client settings).
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from streamcore.dev.cassandra import CassandraServerFiles
from streamcore.dev.kafka import KafkaServerFiles
from streamcore.dev.layout import DevSettings
from streamcore.dev.process import ManagedProcess
from streamcore.dev.registry import RegistryServerFiles, registry_answers, registry_url
from streamcore.dev.tls import DevTlsFiles
from streamcore.dev.toolchain import Toolchain
from streamcore.errors import DevServerError
from streamcore.kafka.health import broker_answers
from streamcore.settings import CassandraSettings, KafkaSettings
from streamcore.state.session import cql_answers

log = logging.getLogger(__name__)

SERVER_NAMES = ("kafka", "cassandra")
"""What ``up`` starts by default; the schema registry is opt-in (``DevSettings.registry``)."""
ALL_SERVER_NAMES = (*SERVER_NAMES, "registry")


class _ServerFiles(Protocol):
    name: str
    directory: Path

    def classpath(self) -> Path: ...
    def write_config(self) -> None: ...
    def command(self, classpath: Path) -> list[str]: ...


@dataclass(frozen=True)
class ServerStatus:
    name: str
    pid: int | None
    ready: bool
    port: int
    seconds_to_ready: float | None = None
    started_here: bool = False
    paused: bool = False

    def describe(self) -> str:
        if self.pid is None and not self.ready:
            return f"{self.name}: stopped (port {self.port})"
        owner = f"pid {self.pid}" if self.pid else "not started by streamcore"
        state = "paused" if self.paused else "ready" if self.ready else "not ready"
        timing = (
            f", ready in {self.seconds_to_ready:.1f} s" if self.seconds_to_ready is not None else ""
        )
        return f"{self.name}: {state} on 127.0.0.1:{self.port} ({owner}{timing})"


class DevServers:
    def __init__(self, settings: DevSettings | None = None) -> None:
        self.settings = settings or DevSettings()
        s = self.settings
        self.tools = Toolchain(s)
        kafka_files = KafkaServerFiles(s, self.tools)
        self._kafka_files = kafka_files
        self._files: dict[str, _ServerFiles] = {
            "kafka": kafka_files,
            "cassandra": CassandraServerFiles(s, self.tools),
            "registry": RegistryServerFiles(s, self.tools),
        }
        self._ports = {
            "kafka": s.kafka_secure_port if s.secure else s.kafka_port,
            "cassandra": s.cassandra_port,
            "registry": s.registry_port,
        }
        kafka_settings = self.kafka_settings()
        cassandra_settings = self.cassandra_settings()
        self._probes: dict[str, Callable[[], bool]] = {
            "kafka": lambda: broker_answers(kafka_settings.client_config(), timeout=1.0),
            "cassandra": lambda: cql_answers(cassandra_settings, timeout=1.0),
            "registry": lambda: registry_answers(s.registry_port),
        }

    @property
    def names(self) -> tuple[str, ...]:
        """The servers ``up`` starts when none are named: the registry only if enabled."""
        return ALL_SERVER_NAMES if self.settings.registry else SERVER_NAMES

    def registry_url(self) -> str:
        """The dev registry's Confluent-compatible API (``SchemaRegistrySettings.url``)."""
        return registry_url(self.settings.registry_port)

    def kafka_settings(self) -> KafkaSettings:
        """How a client reaches this Kafka (SASL_SSL with SCRAM-SHA-512 when secure)."""
        s = self.settings
        if not s.secure:
            return KafkaSettings(bootstrap_servers=f"127.0.0.1:{s.kafka_port}")
        return KafkaSettings(
            bootstrap_servers=f"127.0.0.1:{s.kafka_secure_port}",
            security_protocol="SASL_SSL",
            sasl_mechanism="SCRAM-SHA-512",
            sasl_username=s.kafka_user,
            sasl_password=s.kafka_password,
            ssl_ca_location=str(self.tls.ca),
        )

    def cassandra_settings(self) -> CassandraSettings:
        """How a client reaches this Cassandra (password and TLS when secure)."""
        s = self.settings
        if not s.secure:
            return CassandraSettings(port=s.cassandra_port)
        return CassandraSettings(
            port=s.cassandra_port,
            username=s.cassandra_user,
            password=s.cassandra_password,
            ssl_ca_file=str(self.tls.ca),
        )

    @property
    def tls(self) -> DevTlsFiles:
        """The dev CA and server keystore of a secure pair (made by ``up``)."""
        return DevTlsFiles(self.settings.state_dir.resolve() / "tls")

    def process(self, name: str) -> ManagedProcess:
        return ManagedProcess(name, self._files[name].directory)

    def up(self, names: tuple[str, ...] = (), timeout: float = 180.0) -> list[ServerStatus]:
        """Start what is not running, then wait until every server answers."""
        names = names or self.names
        to_start = [name for name in names if self._needs_start(name)]
        # Resolve every classpath first so the servers then boot side by side.
        classpaths = {name: self._files[name].classpath() for name in to_start}
        started: dict[str, float] = {}
        for name in to_start:
            files = self._files[name]
            files.write_config()
            if name == "kafka":
                self._kafka_files.format_storage(classpaths[name])
            started[name] = time.monotonic()
            process = self.process(name)
            pid = process.start(files.command(classpaths[name]))
            log.info("started %s (pid %s), log %s", name, pid, process.log_file)
        return [self._wait_ready(name, started.get(name), timeout) for name in names]

    def _needs_start(self, name: str) -> bool:
        process = self.process(name)
        if process.is_running():
            log.info("%s already running (pid %s)", name, process.pid())
            return False
        if not _port_open(self._ports[name]):
            return True
        if self._probes[name]():
            log.info("%s answers on port %s; reusing it", name, self._ports[name])
            return False
        raise DevServerError(
            f"port {self._ports[name]} is taken by something that is not {name}; "
            f"set STREAMCORE_DEV_{name.upper()}_PORT to another port"
        )

    def _wait_ready(self, name: str, started: float | None, timeout: float) -> ServerStatus:
        process = self.process(name)
        deadline = time.monotonic() + timeout
        while True:
            if self._probes[name]():
                elapsed = time.monotonic() - started if started is not None else None
                return ServerStatus(
                    name, process.pid(), True, self._ports[name], elapsed, started is not None
                )
            if started is not None and process.exited():
                raise DevServerError(
                    f"{name} exited during start-up; last log lines:\n{process.tail(40)}"
                )
            if time.monotonic() > deadline:
                raise DevServerError(
                    f"{name} not ready after {timeout:.0f} s; last log lines:\n{process.tail(40)}"
                )
            time.sleep(0.3)

    def status(self, names: tuple[str, ...] = ()) -> list[ServerStatus]:
        """By default the servers ``up`` starts (``names``)."""
        statuses = []
        for name in names or self.names:
            process = self.process(name)
            paused = process.is_paused()
            # A paused server can't answer: skip the probe rather than wait for it.
            ready = not paused and self._probes[name]()
            statuses.append(
                ServerStatus(name, process.pid(), ready, self._ports[name], paused=paused)
            )
        return statuses

    def down(self, names: tuple[str, ...] = ALL_SERVER_NAMES) -> list[str]:
        """Stop the servers we started; returns the names actually stopped."""
        return [name for name in names if self.process(name).stop(timeout=60.0)]

    # Faults, for the fault suite (tests/faults) and ``streamcore dev kill|pause|...``.
    # Each acts only on a server this instance started (its pid file and marker).

    def kill(self, name: str) -> bool:
        """SIGKILL ``name``, as a crash would; True if it was running."""
        return self.process(name).kill()

    def pause(self, name: str) -> bool:
        """SIGSTOP ``name``: its port stays open but nothing answers, as in a long GC pause."""
        return self.process(name).pause()

    def resume(self, name: str) -> bool:
        """SIGCONT ``name`` after ``pause``."""
        return self.process(name).resume()

    def restart(self, name: str, timeout: float = 180.0) -> ServerStatus:
        """Start ``name`` again (stopping it first if it runs) and wait until it answers."""
        self.process(name).stop(timeout=60.0)
        return self.up((name,), timeout=timeout)[0]

    def logs(self, name: str, lines: int) -> str:
        return self.process(name).tail(lines)


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
