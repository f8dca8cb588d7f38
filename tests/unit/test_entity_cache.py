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


def test_records_past_the_hot_bound_are_kept_packed_and_come_back_equal() -> None:
    cache = EntityCache(max_entities=10, max_bytes=10**9, hot_entities=2)
    for eid in "abcd":
        cache.put(("ip", eid), PART, _record(eid, rows=3))
    assert len(cache) == 4 and cache.packed == 2  # a and b, the least recently used
    back = cache.get(("ip", "a"))
    assert back is not None and back == _record("a", rows=3) and cache.unpacked == 1
    assert cache.packed == 2  # a is an object again; c, the least recent of the hot, packed
    assert cache.get(("ip", "d")) is cache.get(("ip", "d"))  # hot: the same object


def test_packed_records_count_their_bytes_and_leave_with_their_partition() -> None:
    cache = EntityCache(max_entities=10, max_bytes=10**9, hot_entities=0)
    cache.put(("ip", "a"), ("input", 0), _record("a", rows=20))
    cache.put(("ip", "b"), ("input", 1), _record("b", rows=20))
    assert cache.packed == 2 and cache.bytes == cache.packed_bytes
    assert cache.bytes < 2 * record_bytes(_record("a", rows=20)) / 3  # what packing is for
    cache.drop_partitions([("input", 0)])
    assert len(cache) == 1 and cache.get(("ip", "a")) is None
    cache.drop([("ip", "b")])
    assert len(cache) == 0 and cache.bytes == 0 and cache.packed_bytes == 0


def test_the_bounds_count_both_tiers_and_evict_the_oldest_packed_first() -> None:
    cache = EntityCache(max_entities=3, max_bytes=0, hot_entities=1)
    for eid in "abcd":
        cache.put(("ip", eid), PART, _record(eid))
    assert len(cache) == 3 and cache.get(("ip", "a")) is None
    assert all(cache.get(("ip", eid)) is not None for eid in "bcd")


def test_a_record_that_cannot_be_packed_is_let_go_not_kept_stale() -> None:
    cache = EntityCache(max_entities=10, max_bytes=10**9, hot_entities=1)
    unpicklable = _record("a")
    unpicklable.attrs["asn"][b"\x00"] = Row(lambda: None, '"x"')
    cache.put(("ip", "a"), PART, unpicklable)
    dirty = _record("b")
    dirty.dirty_rows.add(("asn", b"\x00"))  # never cached so, but never packed either
    cache.put(("ip", "b"), PART, dirty)
    cache.put(("ip", "c"), PART, _record("c"))
    assert cache.unpackable == 1 and len(cache) == 1 and cache.packed == 0
    assert cache.get(("ip", "a")) is None and cache.get(("ip", "b")) is None
    assert cache.bytes == record_bytes(_record("c"))
