"""A background ``java`` process we started, tracked by pid file and a marker argument.

The marker (``-Dstreamcore.dev=<dir>``) lets ``stop`` and ``is_running`` tell our server
from an unrelated process that reused the pid, so ``down`` stops exactly what ``up`` started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path


class ManagedProcess:
    def __init__(self, name: str, directory: Path, marker: str | None = None) -> None:
        """``marker``: an argument the command already carries that names ``directory``
        (for a program that refuses a ``-D`` argument); by default one is added."""
        self.name = name
        self.directory = directory
        self.pid_file = directory / f"{name}.pid"
        self.log_file = directory / f"{name}.log"
        self.marker = marker or f"-Dstreamcore.dev={directory}"
        self._add_marker = marker is None

    def pid(self) -> int | None:
        """The pid of our live process, or None (a stale pid file is removed)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if _cmdline_has(pid, self.marker):
            return pid
        self.pid_file.unlink(missing_ok=True)
        return None

    def is_running(self) -> bool:
        return self.pid() is not None

    def start(self, command: list[str], env: dict[str, str] | None = None) -> int:
        """Launch detached (own session), so it outlives the command that started it."""
        full = [command[0], self.marker, *command[1:]] if self._add_marker else command
        if self.marker not in full:
            raise ValueError(f"{self.name}: the command lacks its marker {self.marker}")
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                full,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.directory,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        # Until exec() the child's cmdline is ours, without the marker: wait for it.
        deadline = time.monotonic() + 10
        while not _cmdline_has(proc.pid, self.marker) and proc.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        self.pid_file.write_text(f"{proc.pid}\n")
        return proc.pid

    def exited(self) -> bool:
        """True when the process we launched is gone (it died during start-up)."""
        return self.pid() is None

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM, then SIGKILL after ``timeout``; True if something was stopped.

        A paused process is continued after the SIGTERM, so it can act on it.
        """
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGCONT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                break
            time.sleep(0.2)
        else:
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self, timeout: float = 30.0) -> bool:
        """SIGKILL (a crash: no shutdown hooks, no flush); True if something was killed."""
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while _alive(pid):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} (pid {pid}) still alive after SIGKILL")
            time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)
        return True

    def pause(self) -> bool:
        """SIGSTOP: the process holds its sockets but answers nothing (a hung server)."""
        return self._signal(signal.SIGSTOP)

    def resume(self) -> bool:
        """SIGCONT after ``pause``."""
        return self._signal(signal.SIGCONT)

    def is_paused(self) -> bool:
        pid = self.pid()
        return pid is not None and _state(pid) in {"T", "t"}

    def _signal(self, signum: signal.Signals) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signum)
        return True

    def tail(self, lines: int = 50) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still answers kill(0); reap it if it is one.
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        waited = 0
    if waited == pid:
        return False
    state = _state(pid)
    return state is not None and state != "Z"


def _state(pid: int) -> str | None:
    """The process state letter from /proc (R, S, T stopped, Z zombie...), None if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return None


def _cmdline_has(pid: int, marker: str) -> bool:
    if not _alive(pid):
        return False
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return False
    return marker.encode() in args
