"""The worker's collector policy: off during a batch, young garbage collected after it, the
whole heap at most every ``full_seconds``; a collector its owner disabled stays off."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any, cast

import pytest

from streamcore.batch.gc_policy import BatchCollector
from streamcore.config.samples import example_model
from streamcore.ingest.hook_runner import NoHooks
from streamcore.ingest.processor import TaskProcessor
from streamcore.ingest.worker import IngestWorker, WorkerTopics
from streamcore.kafka.consumer import InputRecord


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    """Each test starts with the collector on, at thresholds no test allocates past (only
    the policy collects), and leaves it as it found it."""
    was, thresholds = gc.isenabled(), gc.get_threshold()
    gc.enable()
    gc.set_threshold(10_000_000, 20, 20)
    yield
    gc.set_threshold(*thresholds)
    if not was:
        gc.disable()


def full_collections() -> int:
    return int(gc.get_stats()[2]["collections"])


def test_the_collector_is_off_during_a_batch_and_on_after_it() -> None:
    collector = BatchCollector()
    with collector.batch():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_cyclic_garbage_of_a_batch_is_gone_once_the_batch_ends() -> None:
    collector = BatchCollector()
    with collector.batch():
        garbage = weakref.ref(Cycle())
        assert garbage() is not None
    assert garbage() is None


def test_a_failing_batch_turns_the_collector_back_on_and_collects() -> None:
    collector = BatchCollector()
    with pytest.raises(RuntimeError), collector.batch():
        garbage = weakref.ref(Cycle())
        raise RuntimeError("the batch failed")
    assert gc.isenabled()
    assert garbage() is None


def test_the_whole_heap_is_collected_once_full_seconds_have_passed() -> None:
    clock = Clock()
    collector = BatchCollector(full_seconds=60.0, clock=clock)
    before = full_collections()
    clock.now = 59.0
    with collector.batch():
        pass
    assert full_collections() == before  # young generations only
    clock.now = 60.0
    with collector.batch():
        pass
    assert full_collections() == before + 1
    clock.now = 100.0
    with collector.batch():
        pass
    assert full_collections() == before + 1  # the next one is due at 120 s


class Timeline:
    """A clock that returns the given times in turn (so a collection can "take" time)."""

    def __init__(self, *times: float) -> None:
        self.times = list(times)

    def __call__(self) -> float:
        return self.times.pop(0)


def test_a_slow_full_collection_makes_the_next_one_wait_longer() -> None:
    # created at 0; a batch at 60 s runs a full collection that takes 5 s (ends at 65):
    # at most 1% of the time, so the next one is due 500 s later, at 565.
    clock = Timeline(0.0, 60.0, 65.0, 400.0, 565.0, 565.5, 626.0, 626.1)
    collector = BatchCollector(full_seconds=60.0, full_share=0.01, clock=clock)
    before = full_collections()
    with collector.batch():
        pass
    assert full_collections() == before + 1
    with collector.batch():  # at 400 s: 335 s after the last one
        pass
    assert full_collections() == before + 1
    with collector.batch():  # at 565 s; this one is quick (0.5 s): back to every 60 s
        pass
    assert full_collections() == before + 2
    with collector.batch():  # at 626 s
        pass
    assert full_collections() == before + 3
    assert clock.times == []


def test_a_collector_its_owner_turned_off_stays_off() -> None:
    gc.disable()
    collector = BatchCollector(full_seconds=0.0)
    before = full_collections()
    with collector.batch():
        garbage = weakref.ref(Cycle())
    assert not gc.isenabled()
    assert garbage() is not None  # not collected: the owner decides
    assert full_collections() == before
    gc.enable()
    gc.collect()


def test_the_worker_runs_each_batch_attempt_under_its_collector() -> None:
    model = example_model()
    fake = cast(Any, object())
    worker = IngestWorker(
        model=model,
        processor=TaskProcessor(model, NoHooks()),
        codec=fake,
        dead_letters=fake,
        store=fake,
        consumer_factory=lambda revoked: fake,
        output=fake,
        topics=WorkerTopics("input", "dead"),
    )
    seen: list[bool] = []

    def batch(records: list[InputRecord]) -> Any:
        seen.append(gc.isenabled())
        return "done"

    worker.process_batch = batch  # type: ignore[method-assign]
    assert worker.process_with_retry([]) == "done"
    assert seen == [False]
    assert gc.isenabled()
