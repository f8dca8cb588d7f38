"""``down`` stops exactly what ``up`` started: pid files are checked against our marker."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from streamcore.dev.process import ManagedProcess

JAVA = shutil.which("java")
SLEEPER = """
public class Sleeper {
    public static void main(String[] args) throws Exception { Thread.sleep(120_000); }
}
"""


@pytest.mark.skipif(JAVA is None, reason="java not installed")
def test_start_and_stop_our_own_process(tmp_path: Path) -> None:
    source = tmp_path / "Sleeper.java"
    source.write_text(SLEEPER)
    process = ManagedProcess("sleeper", tmp_path / "run")
    pid = process.start([str(JAVA), str(source)])
    assert process.pid() == pid
    assert process.is_running()
    assert process.stop(timeout=10)
    assert not process.is_running()
    assert not process.pid_file.exists()
    assert not Path(f"/proc/{pid}").exists() or b"Sleeper" not in _cmdline(pid)


def test_a_stale_pid_file_never_stops_a_stranger(tmp_path: Path) -> None:
    process = ManagedProcess("stranger", tmp_path)
    process.pid_file.write_text(f"{os.getpid()}\n")  # our own pid: alive, but not a server
    assert process.pid() is None
    assert not process.stop(timeout=1)
    assert not process.pid_file.exists()


def test_stop_when_nothing_runs(tmp_path: Path) -> None:
    process = ManagedProcess("none", tmp_path)
    started = time.monotonic()
    assert not process.stop()
    assert time.monotonic() - started < 5


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""
