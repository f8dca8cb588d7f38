"""A hostile source's poison values, mixed with good data, through the real worker.

The poison is encoded straight with the codec (no producer-side validation, as a hostile
or buggy source would send it). Each case once killed or stalled a worker (NaN stored as
null, far-future times overflowing the merge or the Cassandra TTL, year-1 data silently
dropped, unbounded sizes). Now: the worker stays alive, the good neighbours are applied,
and every poison task is on the dead-letter topic with a reason naming its problem.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from confluent_kafka import Producer
from support import CONFIGS, application, read_topic, running, wait_for

from streamcore.codec.tasks import DeadLetterCodec, TaskEncoder
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.runtime import Runtime, build_ingest_worker
from streamcore.settings import Settings

NOW = datetime.now(UTC).replace(microsecond=0)
FAR = datetime(8999, 12, 31, 23, 59, 59, tzinfo=UTC)  # the far end of the accepted window
ANCIENT = datetime(1000, 1, 1, tzinfo=UTC)  # the near end


def point(eid: str, attr: str, v: Any, t1: datetime | None = None) -> DataPoint:
    return DataPoint("host", eid, attr, v, t1, t1 if t1 is not None else None)


def task(eid: str, *points: DataPoint) -> DataPointTask:
    return DataPointTask("host", eid, list(points))


# key -> (task, dead-letter reason, words its message must contain)
POISON: dict[str, tuple[DataPointTask, str, str]] = {
    "nan": (task("p1", point("p1", "score", float("nan"), NOW)), "invalid_data_point", "finite"),
    "inf": (task("p2", point("p2", "score", float("inf"), NOW)), "invalid_data_point", "finite"),
    "json-inf": (
        task("p3", point("p3", "whois", {"x": float("-inf")})),
        "invalid_data_point",
        "NaN or infinity",
    ),
    "series-nan": (
        task("p4", point("p4", "load", {"v": [float("nan")], "time": [NOW]}, NOW)),
        "invalid_data_point",
        "finite",
    ),
    "9999-12-31": (
        task("p5", point("p5", "score", 1.0, datetime(9999, 12, 31, tzinfo=UTC))),
        "invalid_data_point",
        "outside the accepted window",
    ),
    "9999-06-01": (
        task("p6", point("p6", "score", 1.0, datetime(9999, 6, 1, tzinfo=UTC))),
        "invalid_data_point",
        "outside the accepted window",
    ),
    "year-1": (
        task("p7", point("p7", "label", "old", datetime(1, 1, 1, tzinfo=UTC))),
        "invalid_data_point",
        "t1: 0001-01-01",
    ),
    "expired": (
        task("p8", point("p8", "score", 1.0, NOW - timedelta(days=60))),
        "expired",
        "is already past",
    ),
    "100k-string": (
        task("p9", point("p9", "note", "x" * 100_000)),
        "limit_exceeded",
        "max_value_bytes",
    ),
    "900k-message": (
        task("p10", point("p10", "note", "y" * 900_000)),
        "limit_exceeded",
        "max_message_bytes",
    ),
    "200k-array": (
        task("p11", point("p11", "ports", list(range(200_000)))),
        "limit_exceeded",
        "200000 elements",
    ),
    "deep-json": (
        task("p12", point("p12", "whois", "[" * 100 + "]" * 100)),
        "invalid_data_point",
        "nests",
    ),
    "70k-id": (
        task("h" * 70_000, point("h" * 70_000, "note", "x")),
        "invalid_data_point",
        "longer than 65535 bytes",
    ),
}

GOOD = [
    task("g1", point("g1", "note", "fine"), point("g1", "score", 0.5, NOW)),
    task("g2", point("g2", "label", "ancient", ANCIENT)),  # no max_age: kept for ever
    # Expiring after Cassandra's 2038 limit: stored with the largest TTL it accepts.
    task("g3", point("g3", "score", 2.0, FAR), point("g3", "score", 3.0, NOW.replace(2040))),
    task("g4", point("g4", "load", {"v": [1.5, -0.0], "time": [NOW, NOW]}, NOW)),
    task("g5", point("g5", "whois", {"a": 1.5, "b": [1, 2]}), point("g5", "ports", [1, 2, 3])),
]


def produce_raw(runtime: Runtime, items: list[tuple[bytes, bytes]]) -> None:
    raw = Producer(runtime.settings.kafka.client_config())
    for key, value in items:
        raw.produce(runtime.topic("input"), key=key, value=value)
    raw.flush(30)


def test_poison_is_dead_lettered_and_good_neighbours_are_applied(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    with application(settings, app_name, keyspace, CONFIGS / "poison") as runtime:
        encoder = TaskEncoder(runtime.config.model_spec)  # no validation: as a hostile source
        mixed: list[tuple[bytes, bytes]] = []
        for (key, (bad, _, _)), good in zip(POISON.items(), GOOD * 3, strict=False):
            mixed.append((key.encode(), encoder.encode(bad)))
            mixed.append((good.routing_key().encode(), encoder.encode(good)))
        produce_raw(runtime, mixed)

        store = runtime.store()
        with running(build_ingest_worker(runtime)) as worker:
            letters = read_topic(runtime.settings, runtime.topic("dead_letter"), len(POISON), 60)
            records = wait_for(lambda: _loaded(runtime, ["g1", "g2", "g3", "g4", "g5"]))
            # Still alive: a task sent after the poison is applied too.
            after = task("g6", point("g6", "note", "after the poison"))
            produce_raw(runtime, [(after.routing_key().encode(), encoder.encode(after))])
            wait_for(lambda: store.load([("host", "g6")])[0].plain("note"))
            assert not worker.stopping.is_set()

    letters_by_key = {
        letter.key: letter for letter in (DeadLetterCodec().decode(m.value()) for m in letters)
    }
    assert set(letters_by_key) == {key.encode() for key in POISON}, "exactly the poison"
    for key, (_, reason, words) in POISON.items():
        letter = letters_by_key[key.encode()]
        assert (letter.reason, words in letter.message) == (reason, True), (key, letter.message)
        assert len(letter.message) < 1000  # huge values are cut short, not repeated

    g1, g2, g3, g4, g5 = records
    assert g1.plain("note") == "fine"
    assert [r.value for r in g1.attrs["score"].values()] == [0.5]
    (ancient,) = g2.attrs["label"].values()
    assert (ancient.value, ancient.t1, ancient.t2) == ("ancient", ANCIENT, ANCIENT)
    assert sorted((r.value, r.t1) for r in g3.attrs["score"].values()) == [
        (2.0, FAR),
        (3.0, NOW.replace(2040)),
    ]
    (chunk,) = g4.attrs["load"].values()
    assert chunk.value == {"v": [1.5, -0.0], "time": [NOW, NOW]}
    assert g5.plain("whois") == {"a": 1.5, "b": [1, 2]}
    assert g5.plain("ports") == [1, 2, 3]
    # The ttl lifetime's data token follows the far-future row, and is read back exactly.
    assert g3.ttl_tokens["data"] == FAR + timedelta(days=30)


def _loaded(runtime: Runtime, eids: list[str]) -> list[Any] | None:
    records = runtime.store().load([("host", eid) for eid in eids])
    return records if all(r.exists for r in records) else None
