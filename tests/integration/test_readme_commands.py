"""Every shell block of README.md that can run here is run, as written, on the real servers.

Blocks are taken from README.md at test time, so a command changed there is tested as
changed. What the test does differently, and why, is all listed below, explicitly:

* ``SUBSTITUTIONS``: the application ``myapp`` becomes a fresh name (the dev servers are
  shared; its topics and keyspace are removed afterwards), ``helm upgrade --install``
  becomes ``helm template`` (no Kubernetes cluster here: the README's values are rendered
  instead), and a fixed metrics port becomes 0 (off; tests never take fixed ports).
* ``SKIPPED``: commands that cannot run here, each with the reason (and where it is covered).
* ``LONG_RUNNING`` commands and those ending in ``&`` run in the background until the end.
* ``EXIT``: commands the README says exit non-zero; ``EVENTUALLY``: reads that wait for a
  worker, retried until they succeed; ``--follow`` runs for a few seconds.
* The step-by-step block ("A first application") runs first: it builds the state the other
  blocks read (the snapshot of ``192.0.2.10`` in particular).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support import IN_CI, delete_topics_with_prefix

from streamcore.settings import Settings, app_keyspace

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FIRST_BLOCK = "streamcore dev status"  # the step-by-step block starts with this command

SKIPPED = {
    "scripts/demo": "starts the dev servers and runs the demo: tests/integration/test_demo.py",
    "scripts/test": "the test suite itself",
    "docker build": "no Docker on the test machines",
    "docker push": "no Docker and no registry",
    'eval "$(_STREAMCORE_COMPLETE=bash_source': "changes an interactive shell; completion "
    "is tested in tests/unit/test_cli_basics.py",
    'eval "$(_STREAMCORE_COMPLETE=zsh_source': "as bash (zsh is not installed)",
    "_STREAMCORE_COMPLETE=fish_source": "as bash (fish is not installed)",
}
LONG_RUNNING = ("streamcore worker", "streamcore snapshots")
EXIT = {
    "streamcore produce config/ examples/datapoints.json": 1,  # line 14 is invalid
    "streamcore entity get ip 8.8.8.8": 1,  # prefix_filter refuses the entity
}
OUTPUT = {
    "streamcore produce config/ examples/datapoints.json": "line 14: ip 192.0.2.30, "
    "attribute 'asn'",
    "streamcore entity get ip 192.0.2.10 --app-name myapp --snapshot": '"values"',
    "streamcore entity get ip 192.0.2.10 --app-name myapp    #": '"first_seen"',  # derived
}
EVENTUALLY = ("streamcore control ping", "streamcore entity get ip 192.0.2.10")
FOLLOW_SECONDS = 8.0
WAIT_SECONDS = 150.0


@dataclass
class Command:
    text: str  # as in the README (comments and continuations included)
    line: int

    @property
    def run(self) -> str:
        """The shell text to run: continuations joined, comments dropped."""
        lines = [_uncomment(part) for part in self.text.splitlines()]
        return " ".join(part.rstrip("\\").strip() for part in lines if part.strip())

    def matches(self, prefix: str) -> bool:
        return self.text.startswith(prefix)


@dataclass
class Block:
    line: int
    text: str
    commands: list[Command] = field(default_factory=list)


def _uncomment(line: str) -> str:
    """``line`` without a trailing ``# comment`` (a ``#`` after a space, outside quotes)."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def readme_blocks() -> list[Block]:
    text = README.read_text()
    blocks = []
    for match in re.finditer(r"^```(?:bash|sh)\n(.*?)^```", text, re.S | re.M):
        line = text.count("\n", 0, match.start()) + 2
        block = Block(line, match.group(1))
        current: list[str] = []
        start = line
        for number, row in enumerate(block.text.splitlines(), start=line):
            continues = current and (
                current[-1].rstrip().endswith("\\") or row.startswith((" ", "\t"))
            )
            if not continues and current:
                block.commands.append(Command("\n".join(current), start))
                current = []
            if not current:
                start = number
            if row.strip() or current:
                current.append(row)
        if current:
            block.commands.append(Command("\n".join(current), start))
        blocks.append(block)
    return blocks


def test_readme_blocks_are_found_and_every_skip_is_used() -> None:
    commands = [c for block in readme_blocks() for c in block.commands]
    assert any(c.matches(FIRST_BLOCK) for c in commands)
    for prefix in SKIPPED:
        assert any(c.matches(prefix) for c in commands), f"stale SKIPPED entry {prefix!r}"
    for prefix in (*EXIT, *OUTPUT):
        assert any(c.text.startswith(prefix) for c in commands), f"stale entry {prefix!r}"


class Shell:
    """Runs README commands in a scratch directory holding the repository's inputs."""

    def __init__(self, workdir: Path, env: dict[str, str], app: str) -> None:
        self.workdir, self.env, self.app = workdir, env, app
        self.background: list[subprocess.Popen[bytes]] = []
        self.substitutions = [
            ("myapp", app),
            ("helm upgrade --install", "helm template"),
            ("STREAMCORE_METRICS__PORT=9101", "STREAMCORE_METRICS__PORT=0"),
        ]

    def prepare(self, text: str) -> str:
        for old, new in self.substitutions:
            text = text.replace(old, new)
        return text

    def start(self, text: str) -> None:
        self.background.append(
            subprocess.Popen(
                ["bash", "-c", self.prepare(text).rstrip().rstrip("&")],
                cwd=self.workdir,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )

    def run(self, text: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", self.prepare(text)],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def stop(self) -> None:
        for process in self.background:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.background:
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


@pytest.fixture
def shell(settings: Settings, tmp_path: Path, cassandra_session: Any) -> Iterator[Shell]:
    app = f"t-{uuid.uuid4().hex[:12]}"
    for name in ("config", "modules", "examples", "helm", "scripts"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / ".tools").symlink_to(ROOT / ".tools")
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parents[1])
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{ROOT / '.tools' / 'bin'}:{os.environ['PATH']}",
        "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "STREAMCORE_CASSANDRA__PORT": str(settings.cassandra.port),
        "STREAMCORE_METRICS__PORT": "0",
    }
    for name in ("STREAMCORE_APP_NAME", "STREAMCORE_CASSANDRA__KEYSPACE", "STREAMCORE_CONFIG_DIR"):
        env.pop(name, None)
    runner = Shell(tmp_path, env, app)
    try:
        yield runner
    finally:
        runner.stop()
        delete_topics_with_prefix(settings.kafka.client_config(), f"{app}.")
        cassandra_session.execute(f"DROP KEYSPACE IF EXISTS {app_keyspace(app)}", timeout=60)


def _check(shell: Shell, command: Command) -> None:
    text = command.run
    where = f"README.md:{command.line}: {text}"
    if text.rstrip().endswith("&") or text.startswith(LONG_RUNNING):
        shell.start(text)
        return
    if "--follow" in text:
        try:
            shell.run(text, timeout=FOLLOW_SECONDS)
        except subprocess.TimeoutExpired:
            return  # still following: as it should
        pytest.fail(f"{where}: --follow returned")
    expected = next((code for prefix, code in EXIT.items() if command.matches(prefix)), 0)
    wanted = next((out for prefix, out in OUTPUT.items() if command.text.startswith(prefix)), "")
    deadline = time.monotonic() + (WAIT_SECONDS if command.matches(EVENTUALLY) else 0)
    while True:
        result = shell.run(text)
        output = result.stdout + result.stderr
        if result.returncode == expected and wanted in output:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{where}: exit {result.returncode} (wanted {expected}):\n{output}")
        time.sleep(2)


def _helm_block(shell: Shell, block: Block) -> None:
    if not os.access(ROOT / ".tools" / "bin" / "helm", os.X_OK):
        message = "helm missing: run scripts/install-helm-tools.sh"
        if IN_CI:
            pytest.fail(message)
        return  # the block is reported as skipped below
    result = shell.run(block.text)
    assert result.returncode == 0, f"README.md:{block.line}: {result.stderr}"
    rendered = result.stdout
    assert '"kafka-0.kafka:9092,kafka-1.kafka:9092"' in rendered  # the escaped comma
    assert f"value: {shell.app!r}".replace("'", '"') in rendered  # STREAMCORE_APP_NAME
    assert "registry.example.com/streamcore:0.1.0" in rendered


def test_readme_commands_run_as_written(shell: Shell) -> None:
    blocks = readme_blocks()
    first = [b for b in blocks if b.commands and b.commands[0].matches(FIRST_BLOCK)]
    ran, skipped = 0, []
    for block in first + [b for b in blocks if b not in first]:
        if "<<" in block.text:  # a heredoc: the block runs as one script
            _helm_block(shell, block)
            ran += 1
            continue
        for command in block.commands:
            reason = next((why for p, why in SKIPPED.items() if command.matches(p)), None)
            if reason is not None:
                skipped.append(f"README.md:{command.line}: {reason}")
                continue
            _check(shell, command)
            ran += 1
    print("\n".join(["skipped:", *skipped]))
    assert ran >= 20
    assert shutil.which("streamcore", path=shell.env["PATH"])
