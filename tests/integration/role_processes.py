"""Real ``streamcore`` role processes for the tests: start them, wait until ready, scrape
their /metrics, and send control actions through the CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from support import wait_for

from streamcore.settings import Settings

STREAMCORE = Path(sys.executable).parent / "streamcore"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@dataclass
class RoleProcess:
    command: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def ready(self) -> bool:
        assert self.process.poll() is None, self.log.read_text()
        try:
            return get(self.port, "/readyz")[0] == 200
        except OSError:  # not listening yet
            return False

    def samples(self, name: str) -> dict[tuple[tuple[str, str], ...], float]:
        """Labels -> value of every sample named ``name`` on the process's /metrics."""
        status, text = get(self.port, "/metrics")
        assert status == 200, text
        found = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name:
                    found[tuple(sorted(sample.labels.items()))] = sample.value
        return found

    def total(self, name: str, **labels: str) -> float:
        """The sum of ``name``'s samples whose labels include ``labels``."""
        return sum(
            value for key, value in self.samples(name).items() if set(labels.items()) <= set(key)
        )


def role_env(settings: Settings, keyspace: str, **extra: str) -> dict[str, str]:
    """The environment of a role process on the test's servers and keyspace."""
    return {
        **os.environ,
        "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "STREAMCORE_CASSANDRA__CONTACT_POINTS": json.dumps(settings.cassandra.contact_points),
        "STREAMCORE_CASSANDRA__PORT": str(settings.cassandra.port),
        "STREAMCORE_CASSANDRA__KEYSPACE": keyspace,
        "STREAMCORE_CONTROL__HEARTBEAT_SECONDS": str(settings.control.heartbeat_seconds),
        "STREAMCORE_SNAPSHOTS__TASKS_PER_RUN": "4",
        **extra,
    }


@contextmanager
def role_processes(
    commands: list[str],
    config: Path,
    app_name: str,
    env: dict[str, str],
    logs: Path,
) -> Iterator[list[RoleProcess]]:
    """``streamcore <command> CONFIG --app-name APP`` for each command, all ready; killed
    on exit if still running."""
    with ExitStack() as stack:
        started = []
        for n, command in enumerate(commands):
            port = free_port()
            log = logs / f"{n}-{command}.log"
            args = [str(STREAMCORE), command, str(config), "--app-name", app_name]
            with log.open("wb") as out:
                process = subprocess.Popen(
                    args,
                    env={**env, "STREAMCORE_METRICS__PORT": str(port)},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            stack.callback(_kill, process)
            started.append(RoleProcess(command, process, port, log))
        for role in started:
            wait_for(role.ready, timeout=120, every=0.5)
        yield started


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(10)
