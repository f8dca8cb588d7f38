"""The worker's error-policy pieces without servers: retries, lineage, dead letters."""

from __future__ import annotations

import threading

import pytest

from streamcore.batch.retry import RetryPolicy
from streamcore.errors import (
    InvalidDataPointError,
    RawRecord,
    TransientStateError,
    WorkerStalledError,
)
from streamcore.ingest.letters import dead_letter
from streamcore.ingest.lineage import CHAIN_KEPT, Lineage
from streamcore.state.fence import Fence


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now


class SleepingEvent(threading.Event):
    """A stop event whose waits advance the fake clock instead of sleeping."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    def wait(self, timeout: float | None = None) -> bool:
        self.clock.slept.append(timeout or 0.0)
        self.clock.now += timeout or 0.0
        return self.is_set()


def policy(clock: FakeClock, budget: float = 60.0) -> tuple[RetryPolicy, list[str]]:
    retries: list[str] = []
    stopping = SleepingEvent(clock)
    made = RetryPolicy(
        stopping,
        initial_seconds=0.5,
        max_seconds=8.0,
        budget_seconds=budget,
        on_retry=retries.append,
        clock=clock,
    )
    return made, retries


def test_transient_failures_are_retried_with_growing_capped_waits() -> None:
    clock = FakeClock()
    retry, retries = policy(clock)
    attempts = iter([TransientStateError("timeout")] * 6 + [None])

    def attempt() -> str:
        failure = next(attempts)
        if failure is not None:
            raise failure
        return "done"

    assert retry.run(attempt) == "done"
    assert retries == ["state"] * 6
    assert clock.slept[0] < clock.slept[3] and all(0 < s <= 8.0 for s in clock.slept)
    assert retry.failing_since is None  # the episode ended


def test_the_budget_ends_the_worker() -> None:
    clock = FakeClock()
    retry, _ = policy(clock, budget=20.0)

    def attempt() -> None:
        raise TransientStateError("Cassandra unavailable")

    with pytest.raises(WorkerStalledError, match="budget 20 s.*Cassandra unavailable"):
        retry.run(attempt)
    assert 20.0 <= clock.now < 20.0 + 8.0 + 1.0


def test_permanent_errors_are_not_retried() -> None:
    clock = FakeClock()
    retry, retries = policy(clock)

    def attempt() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        retry.run(attempt)
    assert retries == [] and clock.slept == []


def test_failed_batches_polled_again_share_the_episode_and_budget() -> None:
    clock = FakeClock()
    retry, retries = policy(clock, budget=10.0)
    with pytest.raises(WorkerStalledError):
        for _ in range(100):
            retry.failed("transaction", RuntimeError("coordinator unavailable"))
    assert retries.count("transaction") < 100 and clock.now >= 10.0
    retry.succeeded()
    assert retry.failing_since is None


def test_lineage_grows_by_one_module_per_derivation_and_stays_bounded() -> None:
    lineage = Lineage.of(None)
    assert lineage.hops == 0 and lineage.describe() == "(source)"
    for i in range(40):
        lineage = Lineage.of(lineage.child(f"m{i}").headers())
    assert lineage.hops == 40
    assert len(lineage.chain) == CHAIN_KEPT and lineage.chain[-1] == "m39"
    assert Lineage.of([("streamcore.hops", b"junk")]).hops == 0


def test_dead_letters_keep_at_most_the_configured_bytes() -> None:
    raw = RawRecord("in", 0, 7, b"k", b"x" * 1000)
    letter = dead_letter(InvalidDataPointError("bad", raw), raw, 100)
    assert letter.value == b"x" * 100 and "original 1000 bytes, first 100 kept" in letter.message
    small = dead_letter(InvalidDataPointError("bad", raw), raw, 4096)
    assert small.value == raw.value and small.message == "bad"


def test_fence_stamps_never_reach_below_the_base() -> None:
    fence = Fence(base=1_000, start=50)
    assert fence.stamp(50) == 1_000 and fence.stamp(60) == 1_010
    assert fence.stamp(10) == 1_000


def test_what_a_snapshot_worker_retries_and_under_which_reason() -> None:
    from cassandra import ConsistencyLevel, WriteTimeout, WriteType

    from streamcore.batch.retry import is_retryable, reason_of
    from streamcore.errors import PermanentStateError, RegistryUnavailableError
    from streamcore.errors import TransientStateError as Transient

    registry = RegistryUnavailableError("schema registry at http://r: no answer")
    assert is_retryable(registry) and reason_of(registry) == "registry"
    assert is_retryable(Transient("timed out")) and reason_of(Transient("x")) == "state"
    timeout = WriteTimeout(
        "timed out", consistency=ConsistencyLevel.LOCAL_QUORUM, write_type=WriteType.UNLOGGED_BATCH
    )
    assert is_retryable(timeout) and reason_of(timeout) == "state"
    assert not is_retryable(PermanentStateError("refused"))
    assert not is_retryable(ValueError("a bug"))
