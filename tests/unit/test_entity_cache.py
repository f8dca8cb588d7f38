"""The worker's entity cache: both bounds evict the least recently used records."""

from __future__ import annotations

from streamcore.ingest.cache import EntityCache, record_bytes
from streamcore.state.record import EntityRecord, Row

PART = ("input", 0)


def _record(eid: str, rows: int = 1, text: str = '"x"') -> EntityRecord:
    record = EntityRecord("ip", eid, eid)
    for n in range(rows):
        record.attrs.setdefault("asn", {})[bytes([n])] = Row(None, text)
    return record


def test_the_byte_bound_evicts_the_least_recently_used_first() -> None:
    one = record_bytes(_record("a"))
    cache = EntityCache(max_entities=100, max_bytes=3 * one)
    for eid in "abc":
        cache.put(("ip", eid), PART, _record(eid))
    assert cache.get(("ip", "a")) is not None  # a is now the most recently used
    cache.put(("ip", "d"), PART, _record("d"))
    assert len(cache) == 3 and cache.get(("ip", "b")) is None
    assert cache.bytes == 3 * one


def test_a_record_that_grew_is_counted_again_when_put_back() -> None:
    cache = EntityCache(max_entities=100, max_bytes=10**9)
    record = _record("a")
    cache.put(("ip", "a"), PART, record)
    small = cache.bytes
    record.attrs["asn"][b"\x09"] = Row(None, '"' + "y" * 1000 + '"')
    cache.put(("ip", "a"), PART, record)
    assert cache.bytes == record_bytes(record) > small + 2000
    cache.drop([("ip", "a")])
    assert cache.bytes == 0 and len(cache) == 0


def test_larger_records_are_estimated_larger() -> None:
    assert record_bytes(_record("a", rows=10)) > record_bytes(_record("a", rows=1))
    assert record_bytes(_record("a", text='"' + "z" * 500 + '"')) > record_bytes(_record("a"))


def test_zero_bytes_leaves_only_the_entity_bound() -> None:
    cache = EntityCache(max_entities=2, max_bytes=0)
    for eid in "abc":
        cache.put(("ip", eid), PART, _record(eid, rows=50))
    assert len(cache) == 2 and cache.get(("ip", "a")) is None


def test_revoked_partitions_leave_with_their_bytes() -> None:
    cache = EntityCache(max_entities=10, max_bytes=10**9)
    cache.put(("ip", "a"), ("input", 0), _record("a"))
    cache.put(("ip", "b"), ("input", 1), _record("b"))
    cache.drop_partitions([("input", 0)])
    assert len(cache) == 1 and cache.bytes == record_bytes(_record("b"))
