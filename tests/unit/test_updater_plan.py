"""Updater planning: every entity in exactly one slice per period, slices even, progress."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from streamcore.model.datapoint import DataPointTask, Link
from streamcore.module.registrar import CallbackRegistrar
from streamcore.state.master import master_record
from streamcore.state.merge import interval_key
from streamcore.state.progress import Progress
from streamcore.state.record import PLAIN_KEY, EntityRecord, Row
from streamcore.state.schema import index_bucket
from streamcore.testing.config import model_spec_from_dicts
from streamcore.updater.plan import (
    Slice,
    iteration_count,
    plan_slice,
    update_threads,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MODEL = model_spec_from_dicts(
    {
        "host": {
            "entity": {"id": "host", "name": "Host", "snapshot": False},
            "attribs": {
                "name": {"name": "n", "type": "plain", "data_type": "string"},
                "peer": {
                    "name": "p",
                    "type": "observations",
                    "data_type": "link<host>",
                    "history_params": {},
                },
            },
        }
    }
)
EIDS = [f"host-{n}" for n in range(5000)]


def slice_of(eid: str, slices: list[Slice]) -> list[int]:
    bucket = index_bucket(eid)
    return [i for i, s in enumerate(slices) if bucket in s.buckets and s.contains(eid)]


@pytest.mark.parametrize("iterations", [1, 5, 64, 100, 288])
def test_every_entity_is_in_exactly_one_slice(iterations: int) -> None:
    slices = [plan_slice(i, iterations) for i in range(iterations)]
    placement: Counter[int] = Counter()
    for eid in EIDS:
        (where,) = slice_of(eid, slices)
        placement[where] += 1
    mean = len(EIDS) / iterations
    assert len(placement) == iterations or iterations > len(EIDS) / 5
    assert max(placement.values()) < 2.2 * mean + 10  # even, up to hashing noise


def test_slices_cover_each_bucket_and_part_once() -> None:
    for iterations in (3, 64, 65, 200):
        cover: Counter[tuple[int, int, int]] = Counter()
        for i in range(iterations):
            part = plan_slice(i, iterations)
            for bucket in part.buckets:
                cover[bucket, part.part, part.parts] += 1
        assert set(cover.values()) == {1}
        assert {bucket for bucket, _, _ in cover} == set(range(64))


def test_iterations_follow_dp3() -> None:
    assert iteration_count(timedelta(days=1), timedelta(minutes=5)) == 288
    assert iteration_count(timedelta(seconds=7), timedelta(seconds=2)) == 3
    with pytest.raises(ValueError):
        plan_slice(3, 3)


def test_progress_advances_through_rounds_and_resets_on_a_new_slice_count() -> None:
    progress = Progress(0, 0, 2, T0)
    progress = progress.advanced(10, T0)
    assert (progress.round, progress.iteration, progress.processed) == (0, 1, 10)
    progress = progress.advanced(7, T0 + timedelta(seconds=1))
    assert (progress.round, progress.iteration, progress.slot) == (1, 0, "1:0")
    assert progress.fitted(2, T0) is progress
    assert progress.fitted(3, T0) == Progress(2, 0, 3, T0)


def test_threads_group_hooks_by_period_type_and_variant() -> None:
    registrar = CallbackRegistrar(MODEL, timedelta(seconds=1))

    def hook(*_args: Any) -> list[DataPointTask]:
        return []

    def other(*_args: Any) -> list[DataPointTask]:
        return []

    registrar.register_periodic_update_hook(hook, "a", "host", "1d")
    registrar.register_periodic_update_hook(other, "b", "host", "1d")
    registrar.register_periodic_eid_update_hook(hook, "c", "host", "1d")
    registrar.register_periodic_update_hook(hook, "d", "host", "1h")
    threads = update_threads(registrar.registry.periodic_hooks())
    assert [(t.thread_id, list(t.hooks)) for t in threads] == [
        ("host:86400s:record", ["a", "b"]),
        ("host:86400s:eid", ["c"]),
        ("host:3600s:record", ["d"]),
    ]


def test_master_record_has_dp3_shape() -> None:
    record = EntityRecord("host", "h1", "h1", exists=True, created=T0, ttl_tokens={"base": T0})
    record.attrs["name"] = {PLAIN_KEY: Row("edge", '"edge"', t1=T0)}
    late, early = T0 + timedelta(hours=2), T0 + timedelta(hours=1)
    record.attrs["peer"] = {
        interval_key(late, late, "b"): Row(Link("b"), '{"eid":"b"}', t1=late, t2=late, c=0.5),
        interval_key(early, early, "a"): Row(Link("a"), '{"eid":"a"}', t1=early, t2=early, c=1.0),
    }
    assert master_record(record, MODEL) == {
        "_id": "h1",
        "#hash": 36318,  # dp3.common.task.HASH("host:h1"), dp-cubed 0.10.0
        "#time_created": T0,
        "#ttl": {"base": T0},
        "name": {"v": "edge", "ts_last_update": T0},
        "peer": [
            {"t1": early, "t2": early, "v": {"eid": "a"}, "c": 1.0},
            {"t1": late, "t2": late, "v": {"eid": "b"}, "c": 0.5},
        ],
    }
