"""SIGTERM from the moment a role starts: before its replica is built, and while it runs."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest

from streamcore.replica import StopSignals


class Replica:
    """What StopSignals needs of a replica: its context's instance name and stop()."""

    def __init__(self) -> None:
        self.stopped = 0
        self.context: Any = type("Context", (), {"instance": "worker-a"})()

    def stop(self) -> None:
        self.stopped += 1


@pytest.fixture
def restore_handlers() -> Iterator[None]:
    saved = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGTERM, saved[0])
    signal.signal(signal.SIGINT, saved[1])


def test_a_signal_while_building_stops_the_replica_before_it_runs(
    restore_handlers: None,
) -> None:
    stopping = StopSignals("worker")
    stopping.install()
    os.kill(os.getpid(), signal.SIGTERM)  # the process survives: the handler took it
    replica = Replica()
    assert stopping.bind(replica) is False  # run_context returns without running it
    assert stopping.signum == signal.SIGTERM


def test_a_signal_once_bound_stops_the_running_replica(restore_handlers: None) -> None:
    stopping = StopSignals("worker")
    stopping.install()
    replica = Replica()
    assert stopping.bind(replica) is True
    os.kill(os.getpid(), signal.SIGINT)
    assert replica.stopped == 1
