"""Bring the dev servers up, report their state, take them down.

``up`` is idempotent: a server already running (our pid file, our marker) is reused; one
whose port answers but that we did not start is reported, never touched. Both servers boot
in parallel and readiness is polled, not slept for. A secure pair (``SecureDevSettings``)
is probed the way its clients connect: SASL_SSL and password + TLS (``kafka_settings`` and
``cassandra_settings`` give those client settings).

A local cluster (``DevSettings.nodes`` > 1) has one server per node and kind, ``kafka-1``
... ``cassandra-3``; a kind's name (``kafka``) stands for all its nodes. Each node is
probed on its own address: a broker is ready when the metadata it serves lists itself, a
Cassandra node when it answers CQL itself. Fresh Cassandra nodes start after the seed
(node 1) answers; stopping is done in parallel (a last broker shutting down alone would
wait for a controller quorum that is already gone).
"""

from __future__ import annotations

import functools
import logging
import socket
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from streamcore.dev.cassandra import CassandraServerFiles
from streamcore.dev.kafka import KafkaServerFiles, new_cluster_id
from streamcore.dev.layout import DevSettings
from streamcore.dev.process import ManagedProcess
from streamcore.dev.registry import RegistryServerFiles, registry_answers, registry_url
from streamcore.dev.tls import DevTlsFiles
from streamcore.dev.toolchain import Toolchain
from streamcore.errors import DevServerError
from streamcore.kafka.health import broker_answers
from streamcore.settings import CassandraSettings, KafkaSettings
from streamcore.state.session import cql_answers, cql_not_ready, cql_schema_version

log = logging.getLogger(__name__)

SERVER_NAMES = ("kafka", "cassandra")
"""What ``up`` starts by default on one node; the schema registry is opt-in
(``DevSettings.registry``) and runs once, on 127.0.0.1, whatever the node count."""
REGISTRY = "registry"
LAYOUT_FILE = "nodes"
"""In the state directory: the node count ``up`` last started, for the other commands."""


def recorded_nodes(settings: DevSettings) -> int:
    """The node count of the layout last started in ``settings.state_dir`` (1 if none)."""
    try:
        return int((settings.state_dir / LAYOUT_FILE).read_text().strip())
    except (FileNotFoundError, ValueError):
        return 1


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
    host: str = "127.0.0.1"

    def describe(self) -> str:
        if self.pid is None and not self.ready:
            return f"{self.name}: stopped ({self.host}:{self.port})"
        owner = f"pid {self.pid}" if self.pid else "not started by streamcore"
        state = "paused" if self.paused else "ready" if self.ready else "not ready"
        timing = (
            f", ready in {self.seconds_to_ready:.1f} s" if self.seconds_to_ready is not None else ""
        )
        return f"{self.name}: {state} on {self.host}:{self.port} ({owner}{timing})"


class DevServers:
    def __init__(self, settings: DevSettings | None = None) -> None:
        self.settings = settings or DevSettings()
        s = self.settings
        self.tools = Toolchain(s)
        nodes: list[int | None] = [None] if s.nodes == 1 else list(range(1, s.nodes + 1))
        self._kafka_files = {
            files.name: files for files in (KafkaServerFiles(s, self.tools, n) for n in nodes)
        }
        cassandra_files = [CassandraServerFiles(s, self.tools, n) for n in nodes]
        self._files: dict[str, _ServerFiles] = {
            **self._kafka_files,
            **{files.name: files for files in cassandra_files},
        }
        self._files[REGISTRY] = RegistryServerFiles(s, self.tools)
        self.all_names = tuple(self._files)
        """Every server this layout can run: ``kafka``, ``cassandra`` or ``kafka-1`` ...,
        and the registry."""
        self.names = self.all_names if s.registry else self.all_names[:-1]
        """The servers ``up`` starts when none are named: the registry only if enabled."""
        self._hosts = {
            **{f.name: f.host for f in self._kafka_files.values()},
            **{f.name: f.host for f in cassandra_files},
            REGISTRY: "127.0.0.1",
        }
        kafka_port = s.kafka_secure_port if s.secure else s.kafka_port
        self._ports = {
            **dict.fromkeys(self._kafka_files, kafka_port),
            **{f.name: s.cassandra_port for f in cassandra_files},
            REGISTRY: s.registry_port,
        }
        self._probes: dict[str, Callable[[], bool]] = {
            REGISTRY: lambda: registry_answers(s.registry_port)
        }
        kafka_settings = self.kafka_settings()
        for kafka in self._kafka_files.values():
            own = kafka_settings.model_copy(
                update={"bootstrap_servers": f"{kafka.host}:{kafka_port}"}
            ).client_config()
            self._probes[kafka.name] = _kafka_probe(own, kafka.node)
        self._ready_probes = dict(self._probes)
        """What ``up`` waits for: in a cluster, a Cassandra node that also sees the whole
        ring and agrees with it on the schema (its plain probe only says it answers)."""
        self._not_ready_reasons: dict[str, Callable[[], str | None]] = {}
        """What a start-up timeout reports besides the log: why the probe still says no."""
        cassandra_settings = self.cassandra_settings()
        self._own_cql: dict[str, CassandraSettings] = {}
        """Each Cassandra node's settings with itself as the only contact point."""
        for cassandra in cassandra_files:
            own_cql = cassandra_settings.model_copy(update={"contact_points": [cassandra.host]})
            self._own_cql[cassandra.name] = own_cql
            ring_peers = s.nodes - 1 if s.nodes > 1 else None
            self._not_ready_reasons[cassandra.name] = functools.partial(
                cql_not_ready, own_cql, 5.0, s.nodes > 1, ring_peers
            )
            self._probes[cassandra.name] = _cassandra_probe(own_cql, s.nodes > 1)
            self._ready_probes[cassandra.name] = (
                _cassandra_probe(own_cql, True, ring_peers=s.nodes - 1)
                if s.nodes > 1
                else self._probes[cassandra.name]
            )

    def registry_url(self) -> str:
        """The dev registry's Confluent-compatible API (``SchemaRegistrySettings.url``)."""
        return registry_url(self.settings.registry_port)

    def kafka_settings(self) -> KafkaSettings:
        """How a client reaches this Kafka (SASL_SSL with SCRAM-SHA-512 when secure)."""
        s = self.settings
        hosts = [s.host(n) for n in range(1, s.nodes + 1)]
        if not s.secure:
            return KafkaSettings(bootstrap_servers=",".join(f"{h}:{s.kafka_port}" for h in hosts))
        return KafkaSettings(
            bootstrap_servers=",".join(f"{h}:{s.kafka_secure_port}" for h in hosts),
            security_protocol="SASL_SSL",
            sasl_mechanism="SCRAM-SHA-512",
            sasl_username=s.kafka_user,
            sasl_password=s.kafka_password,
            ssl_ca_location=str(self.tls.ca),
        )

    def cassandra_settings(self) -> CassandraSettings:
        """How a client reaches this Cassandra (password and TLS when secure)."""
        s = self.settings
        hosts = [s.host(n) for n in range(1, s.nodes + 1)]
        if not s.secure:
            return CassandraSettings(contact_points=hosts, port=s.cassandra_port)
        return CassandraSettings(
            contact_points=hosts,
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

    def select(self, names: tuple[str, ...] = ()) -> tuple[str, ...]:
        """The servers ``names`` mean, in layout order: all when empty; a kind's name
        (``kafka``) is every node of that kind in a cluster."""
        if not names:
            return self.names
        known = self.all_names
        unknown = [n for n in names if not any(_matches(server, n) for server in known)]
        if unknown:
            raise DevServerError(
                f"no server {', '.join(unknown)} here; the servers: {', '.join(known)}"
            )
        return tuple(s for s in known if any(_matches(s, n) for n in names))

    def up(self, names: tuple[str, ...] = (), timeout: float = 180.0) -> list[ServerStatus]:
        """Start what is not running, then wait until every server answers (in a cluster,
        until every Cassandra node also sees the whole ring and one schema version).

        Every broker and a cluster's Cassandra seed start side by side; the other
        Cassandra nodes start when the seed answers (a fresh node finds the ring there).
        """
        names = self.select(names)
        self._check_layout()
        to_start = [name for name in names if self._needs_start(name)]
        # Resolve every classpath first so the servers then boot side by side.
        classpaths = {name: self._files[name].classpath() for name in to_start}
        if to_start:
            self._record_layout()  # before any start: ``down`` must find what this starts
        self._prepare(to_start, classpaths)
        seed = "cassandra-1"
        later = [n for n in to_start if n.startswith("cassandra-") and n != seed]
        if seed not in to_start:
            later = []
        started: dict[str, float] = {}
        for name in to_start:
            if name not in later:
                started[name] = self._start(name, classpaths[name])
        statuses = {}
        if later:
            # The seed alone first (the others join its ring), so not yet the ring probe.
            statuses[seed] = self._wait_ready(seed, started[seed], timeout, self._probes[seed])
            for name in later:
                started[name] = self._start(name, classpaths[name])
        for name in names:
            if name not in statuses:
                statuses[name] = self._wait_ready(name, started.get(name), timeout)
        if later:
            statuses[seed] = self._wait_ready(seed, started[seed], timeout)
        return [statuses[name] for name in names]

    def _prepare(self, names: list[str], classpaths: dict[str, Path]) -> None:
        """Write every configuration and format new Kafka storage (a JVM each: side by side)."""
        for name in names:
            self._files[name].write_config()
        cluster_id = self._kafka_cluster_id()
        kafkas = [self._kafka_files[name] for name in names if name in self._kafka_files]
        if kafkas:
            with ThreadPoolExecutor(max_workers=len(kafkas)) as pool:
                formats = [
                    pool.submit(kafka.format_storage, classpaths[kafka.name], cluster_id)
                    for kafka in kafkas
                ]
                for done in formats:
                    done.result()

    def _start(self, name: str, classpath: Path) -> float:
        started = time.monotonic()
        process = self.process(name)
        pid = process.start(self._files[name].command(classpath))
        log.info("started %s (pid %s), log %s", name, pid, process.log_file)
        return started

    def _kafka_cluster_id(self) -> str | None:
        """The id every node of a cluster is formatted with: the one a node already has,
        else a fresh one; None for the single broker (it draws its own)."""
        if self.settings.nodes == 1:
            return None
        found = (files.formatted_cluster_id() for files in self._kafka_files.values())
        return next((cluster_id for cluster_id in found if cluster_id), None) or new_cluster_id()

    def _check_layout(self) -> None:
        """Refuse to start a layout over another one still running in the same state
        directory (they share 127.0.0.1's ports)."""
        recorded = recorded_nodes(self.settings)
        if recorded == self.settings.nodes:
            return
        other = DevServers(self.settings.model_copy(update={"nodes": recorded}))
        running = [name for name in other.names if other.process(name).is_running()]
        if running:
            raise DevServerError(
                f"a {recorded}-node layout runs in {self.settings.state_dir} "
                f"({', '.join(running)}): `streamcore dev down` it first"
            )

    def _record_layout(self) -> None:
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
        (self.settings.state_dir / LAYOUT_FILE).write_text(f"{self.settings.nodes}\n")

    def _needs_start(self, name: str) -> bool:
        process = self.process(name)
        if process.is_running():
            log.info("%s already running (pid %s)", name, process.pid())
            return False
        if not _port_open(self._hosts[name], self._ports[name]):
            return True
        if self._probes[name]():
            log.info("%s answers on port %s; reusing it", name, self._ports[name])
            return False
        raise DevServerError(
            f"{self._hosts[name]}:{self._ports[name]} is taken by something that is not {name}; "
            f"set STREAMCORE_DEV_{name.split('-', maxsplit=1)[0].upper()}_PORT to another port"
        )

    def _wait_ready(
        self,
        name: str,
        started: float | None,
        timeout: float,
        probe: Callable[[], bool] | None = None,
    ) -> ServerStatus:
        process = self.process(name)
        ready = probe or self._ready_probes[name]
        deadline = time.monotonic() + timeout
        while True:
            if ready():
                elapsed = time.monotonic() - started if started is not None else None
                return ServerStatus(
                    name,
                    process.pid(),
                    True,
                    self._ports[name],
                    elapsed,
                    started is not None,
                    host=self._hosts[name],
                )
            if started is not None and process.exited():
                raise DevServerError(
                    f"{name} exited during start-up; last log lines:\n{process.tail(40)}"
                )
            if time.monotonic() > deadline:
                reason = self.not_ready(name)
                why = f" ({reason})" if reason else ""
                raise DevServerError(
                    f"{name} not ready after {timeout:.0f} s{why}; "
                    f"last log lines:\n{process.tail(40)}"
                )
            time.sleep(0.3)

    def status(self, names: tuple[str, ...] = ()) -> list[ServerStatus]:
        """By default the servers ``up`` starts."""
        statuses = []
        for name in self.select(names):
            process = self.process(name)
            paused = process.is_paused()
            # A paused server can't answer: skip the probe rather than wait for it.
            ready = not paused and self._probes[name]()
            statuses.append(
                ServerStatus(
                    name,
                    process.pid(),
                    ready,
                    self._ports[name],
                    paused=paused,
                    host=self._hosts[name],
                )
            )
        return statuses

    def down(self, names: tuple[str, ...] = ()) -> list[str]:
        """Stop the servers we started, side by side (by default all of them, the registry
        too); returns the names actually stopped."""
        selected = self.select(names) if names else self.all_names
        with ThreadPoolExecutor(max_workers=len(selected)) as pool:
            stopped = list(pool.map(lambda name: self.process(name).stop(timeout=60.0), selected))
        return [name for name, done in zip(selected, stopped, strict=True) if done]

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

    def not_ready(self, name: str) -> str | None:
        """Why Cassandra node ``name`` would not pass ``up``'s ring probe now (None: it would;
        always None for a broker)."""
        reason = self._not_ready_reasons.get(name)
        return reason() if reason is not None else None

    def schema_versions(self) -> dict[str, str | None]:
        """Each Cassandra node's own schema version (None: it does not answer CQL)."""
        return {name: cql_schema_version(own) for name, own in self._own_cql.items()}

    def logs(self, name: str, lines: int) -> str:
        return self.process(name).tail(lines)


def schema_outliers(versions: dict[str, str | None]) -> list[str]:
    """The nodes not holding the schema version most nodes hold (ties: the first seen
    wins), and those that do not answer: a restart of these, not of the others, brings a
    disagreeing ring back to one version."""
    held = Counter(v for v in versions.values() if v is not None)
    if not held:
        return list(versions)
    majority = held.most_common(1)[0][0]
    return [name for name, version in versions.items() if version != majority]


def _matches(server: str, name: str) -> bool:
    return server == name or server.startswith(f"{name}-")


def _kafka_probe(
    client_config: dict[str, str | int | float | bool], node_id: int | None
) -> Callable[[], bool]:
    """This broker answers metadata and (in a cluster) lists itself: it has registered."""
    return lambda: broker_answers(client_config, timeout=1.0, broker_id=node_id)


def _cassandra_probe(
    settings: CassandraSettings, pinned: bool, ring_peers: int | None = None
) -> Callable[[], bool]:
    """This node answers CQL (pinned: itself, not another node of its ring; ring_peers:
    and it knows that many peers, agreeing with them on the schema)."""
    return lambda: cql_answers(settings, timeout=1.0, pinned=pinned, ring_peers=ring_peers)


def _port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
