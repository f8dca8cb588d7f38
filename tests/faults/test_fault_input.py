"""Hostile input under load: poison values and a hypothesis-driven fuzz corpus, mixed into
the countable load and sent to two ``streamcore worker`` processes.

First the corpus is checked in memory: every payload either decodes and validates (then it
must merge without error) or is refused with a ``DataPointError``; nothing else escapes.
Then the same bytes go to the real workers: they must survive, apply every good reading
(lost = 0, duplicated = 0) and dead-letter every refused payload with a reason.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fault_harness import SENSORS, FaultApp
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from streamcore.codec.tasks import TaskDecoder, TaskEncoder
from streamcore.errors import DataPointError
from streamcore.ingest.hook_runner import NoHooks
from streamcore.ingest.processor import TaskProcessor
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.runtime import TaskCodec
from streamcore.settings import LimitsSettings
from streamcore.state.record import EntityRecord

pytestmark = [pytest.mark.faults, pytest.mark.timeout(280)]

FUZZ_BASE = 10**9
"""Fuzzed readings carry numbers from here on: never one of the load's sequence numbers."""
FUZZ_EXAMPLES = int(os.environ.get("STREAMCORE_FAULT_FUZZ_EXAMPLES", "300"))
NOW = datetime.now(UTC).replace(microsecond=0)


def sensor_task(eid: str, *points: tuple[str, Any, datetime | None]) -> DataPointTask:
    return DataPointTask(
        "sensor", eid, [DataPoint("sensor", eid, attr, v, t, t) for attr, v, t in points]
    )


# name -> (key, task encoded without validation, as a hostile source sends it; reason)
POISON: dict[str, tuple[bytes | None, DataPointTask, str]] = {
    "nan": (b"sensor:p1", sensor_task("p1", ("level", float("nan"), None)), "invalid_data_point"),
    "inf": (b"sensor:p2", sensor_task("p2", ("level", float("-inf"), None)), "invalid_data_point"),
    "9999-12-31": (
        b"sensor:p3",
        sensor_task("p3", ("reading", FUZZ_BASE, datetime(9999, 12, 31, tzinfo=UTC))),
        "invalid_data_point",
    ),
    "9999-06-01": (
        b"sensor:p4",
        sensor_task("p4", ("reading", FUZZ_BASE, datetime(9999, 6, 1, tzinfo=UTC))),
        "invalid_data_point",
    ),
    "year-1": (
        b"sensor:p5",
        sensor_task("p5", ("reading", FUZZ_BASE, datetime(1, 1, 1, tzinfo=UTC))),
        "invalid_data_point",
    ),
    "900k-note": (b"sensor:p6", sensor_task("p6", ("note", "n" * 900_000, None)), "limit_exceeded"),
    "misrouted": (
        b"sensor:s0",
        sensor_task("p7", ("note", "elsewhere", None)),
        "invalid_data_point",  # "misrouted: key ... is not the entity's routing key"
    ),
    "null-key": (None, sensor_task("p8", ("note", "no key", None)), "invalid_data_point"),
}
RAW_POISON: dict[str, bytes] = {
    "random-bytes": bytes(range(256)) * 3,
    "near-1MiB-garbage": b"\xc3\x01" + os.urandom(990_000),
}


def seeds(encoder: TaskEncoder) -> list[tuple[str, bytes]]:
    """Valid encodings the byte-level mutations start from (key, bytes)."""
    tasks = [
        sensor_task("z1", ("reading", FUZZ_BASE + 1, NOW)),
        sensor_task("z2", ("level", 0.5, None), ("note", "seed", None)),
        sensor_task("z3", ("last", 7, None), ("reading", FUZZ_BASE + 2, NOW)),
    ]
    return [(t.routing_key(), encoder.encode(t)) for t in tasks]


def values() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=FUZZ_BASE, max_value=2**63 - 1),
        st.integers(min_value=-(2**63), max_value=-1),
        st.text(max_size=40),
        st.none(),
        st.lists(st.integers(), max_size=5),
        st.booleans(),
    )


def corpus_strategy(encoder: TaskEncoder) -> st.SearchStrategy[tuple[str, bytes]]:
    """(key, payload): a seed truncated, a seed with bytes overwritten, random bytes, or a
    task of arbitrary values, times and attributes encoded without validation."""
    base = seeds(encoder)

    def truncated(args: tuple[tuple[str, bytes], int]) -> tuple[str, bytes]:
        (key, data), cut = args
        return key, data[: cut % len(data)]

    def overwritten(args: tuple[tuple[str, bytes], list[tuple[int, int]]]) -> tuple[str, bytes]:
        (key, data), edits = args
        out = bytearray(data)
        for at, byte in edits:
            out[at % len(out)] = byte
        return key, bytes(out)

    def built(args: tuple[int, str, Any, datetime | None]) -> tuple[str, bytes]:
        n, attr, v, t = args
        task = sensor_task(f"z{n}", (attr, v, t))
        try:
            return task.routing_key(), encoder.encode(task)
        except Exception:  # not even encodable (a str where the schema wants a long)
            return task.routing_key(), b""

    edits = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4)
    times = st.one_of(
        st.none(), st.datetimes(timezones=st.just(UTC)), st.just(NOW), st.just(NOW - timedelta(1))
    )
    attrs = st.sampled_from(["reading", "last", "level", "note", "nope"])
    return st.one_of(
        st.tuples(st.sampled_from(base), st.integers(0, 10**6)).map(truncated),
        st.tuples(st.sampled_from(base), edits).map(overwritten),
        st.tuples(st.just("sensor:z0"), st.binary(max_size=300)),
        st.tuples(st.integers(10, 40), attrs, values(), times).map(built),
    )


def collides(reader: TaskDecoder, payload: bytes) -> bool:
    """A mutation that reads (validation aside) as a load sensor's or a load reading's: not
    sent, since the count would take it for that reading (a duplicate)."""
    try:
        task = reader.read(payload)
    except Exception:
        return False
    numbers = [dp.v for dp in task.data_points if dp.attr in ("reading", "seen")]
    in_load = [n for n in numbers if isinstance(n, int | float) and 0 <= n < FUZZ_BASE]
    return bool(in_load) or not str(task.eid).startswith("z")


def fuzz_corpus(app: FaultApp) -> tuple[list[tuple[str, bytes]], int]:
    """The corpus, each payload checked in memory; and how many of them are refused."""
    codec = TaskCodec(app.config, LimitsSettings().limits())
    processor = TaskProcessor(app.config.model_spec, NoHooks())
    reader = TaskDecoder(app.config.model_spec)
    corpus: list[tuple[str, bytes]] = []
    refused = 0

    @hypothesis_settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(corpus_strategy(TaskEncoder(app.config.model_spec)))
    def check(item: tuple[str, bytes]) -> None:
        nonlocal refused
        key, payload = item
        if collides(reader, payload):
            return
        try:
            task = codec.decode(payload)
        except DataPointError:
            refused += 1
            corpus.append(item)
            return
        # Accepted: it must merge into a fresh entity without error, as the worker would.
        record = EntityRecord(task.etype, task.eid, str(task.eid))
        processor.process(record, task, "fuzz", NOW)
        corpus.append((task.routing_key(), payload))

    check()
    return corpus, refused


def test_poison_and_fuzzed_records_amid_the_load(fault_app: FaultApp) -> None:
    app = fault_app
    corpus, refused = fuzz_corpus(app)
    encoder = TaskEncoder(app.config.model_spec)
    hostile: list[tuple[bytes | None, bytes]] = [
        (key, encoder.encode(task)) for key, task, _ in POISON.values()
    ]
    hostile += [(b"sensor:z0", data) for data in RAW_POISON.values()]
    hostile += [(key.encode(), payload) for key, payload in corpus]

    app.start_workers(2)
    app.send(count=2000, seconds=20)
    app.wait_applied(100)
    half = len(hostile) // 2
    app.send_raw(hostile[:half])
    app.run_for(3.0)
    app.send_raw(hostile[half:])
    outcome = app.settle()

    letters = app.dead_letters()
    reasons: dict[str, int] = {}
    for letter in letters:
        reasons[letter.reason] = reasons.get(letter.reason, 0) + 1
        assert letter.message, letter
    outcome.details["fuzz corpus"] = f"{len(corpus)} payloads, {refused} refused in memory"
    outcome.details["dead letters by reason"] = reasons
    outcome.report()
    outcome.assert_clean()

    expected_reasons = {reason for _, _, reason in POISON.values()} | {"undecodable"}
    assert expected_reasons <= set(reasons), reasons
    # Every hostile record the validator refuses is a dead letter; accepted ones are applied.
    expected = len(POISON) + len(RAW_POISON) + refused
    assert len(letters) == expected, (len(letters), expected, reasons)
    readings = app.state.rows("sensor", "reading", "s", SENSORS)
    assert not [v for v in readings if v >= FUZZ_BASE], "fuzz landed on a load sensor"
