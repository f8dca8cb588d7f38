"""The fault primitives act on our own server process: SIGKILL, SIGSTOP and SIGCONT."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from streamcore.cli import main
from streamcore.dev.process import ManagedProcess

JAVA = shutil.which("java")
SLEEPER = """
public class Sleeper {
    public static void main(String[] args) throws Exception { Thread.sleep(120_000); }
}
"""


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[ManagedProcess]:
    if JAVA is None:
        pytest.skip("java not installed")
    source = tmp_path / "Sleeper.java"
    source.write_text(SLEEPER)
    process = ManagedProcess("sleeper", tmp_path / "run")
    process.start([JAVA, str(source)])
    yield process
    process.stop(timeout=10)


def _state_becomes(pid: int, states: set[str]) -> bool:
    """A signal is delivered asynchronously: wait (briefly) for the state to follow."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] in states:
            return True
        time.sleep(0.01)
    return False


def test_kill_ends_the_process_at_once(sleeper: ManagedProcess) -> None:
    pid = sleeper.pid()
    assert pid is not None
    assert sleeper.kill()
    assert not sleeper.is_running()
    assert not sleeper.pid_file.exists()
    assert not sleeper.kill()  # nothing left to kill


def test_pause_stops_the_process_and_resume_continues_it(sleeper: ManagedProcess) -> None:
    pid = sleeper.pid()
    assert pid is not None
    assert sleeper.pause()
    assert _state_becomes(pid, {"T"})
    assert sleeper.is_paused()
    assert sleeper.resume()
    assert _state_becomes(pid, {"S", "R"})
    assert not sleeper.is_paused()


def test_stop_ends_a_paused_process_without_waiting_for_the_kill(
    sleeper: ManagedProcess,
) -> None:
    sleeper.pause()
    # A stopped process acts on SIGTERM only once continued; stop() continues it.
    assert sleeper.stop(timeout=20)
    assert not sleeper.is_running()


def test_faults_never_touch_a_process_we_did_not_start(tmp_path: Path) -> None:
    process = ManagedProcess("stranger", tmp_path)
    assert not process.kill()
    assert not process.pause()
    assert not process.resume()
    assert not process.is_paused()


@pytest.mark.parametrize("command", ["kill", "pause", "resume"])
def test_cli_fault_on_a_server_that_is_not_running_fails(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMCORE_DEV_STATE_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["dev", command, "cassandra"])
    assert result.exit_code == 1
    assert "cassandra is not running" in result.output
