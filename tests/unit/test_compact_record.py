"""Packed entity records (the entity cache's packed tier) come back equal to what went in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from streamcore.config.samples import T0, every_kind_tasks, example_model
from streamcore.ingest.compact import pack, packable, unpack
from streamcore.ingest.hook_runner import NoHooks
from streamcore.ingest.processor import TaskProcessor
from streamcore.state.encoding import eid_text
from streamcore.state.record import EntityRecord, QuarantinedRow, Row


def _processed() -> list[EntityRecord]:
    """Records of every data type and attribute kind of the example model, as a batch
    leaves them once written."""
    model = example_model()
    processor = TaskProcessor(model, NoHooks())
    records: dict[tuple[str, object], EntityRecord] = {}
    for n, sent in enumerate(every_kind_tasks()):
        task = model.validate_task(sent)
        key = (task.etype, task.eid)
        record = records.setdefault(key, EntityRecord(task.etype, task.eid, eid_text(task.eid)))
        processor.process(record, task, f"input:0:{n}", T0)
    for record in records.values():
        record.mark_clean()
        record.indexed = True
    return list(records.values())


def test_every_data_type_and_attribute_kind_comes_back_equal() -> None:
    records = _processed()
    kinds = {attr for record in records for attr in record.attrs}
    assert len(kinds) >= 10  # the sample covers the model, not one attribute
    for record in records:
        assert packable(record)
        back = unpack(pack(record))
        assert back == record
        assert back.indexed and back.stamp is None
        for attr, rows in record.attrs.items():
            for key, row in rows.items():
                assert type(back.attrs[attr][key].value) is type(row.value)


def test_times_keep_their_zone_and_utc_keeps_the_shared_tzinfo() -> None:
    record = EntityRecord("ip", "192.0.2.1", "192.0.2.1", exists=True, created=T0)
    plus_two = timezone(timedelta(hours=2))
    record.attrs["seen"] = {
        b"a": Row(1, "1", T0, T0 + timedelta(microseconds=1), 0.5, "src"),
        b"b": Row(2, "2", datetime(2024, 5, 1, 14, tzinfo=plus_two), datetime(2024, 5, 1)),  # noqa: DTZ001 (naive, kept so)
        b"c": Row(3, "3", datetime(1960, 1, 1, tzinfo=UTC), None, None, None),
        b"d": Row(4, "4", datetime(1, 1, 1, tzinfo=UTC), datetime.max.replace(tzinfo=UTC)),
    }
    record.ttl_tokens["data"] = T0 + timedelta(days=30)
    back = unpack(pack(record))
    assert back == record
    rows = back.attrs["seen"]
    a, b, c = rows[b"a"], rows[b"b"], rows[b"c"]
    assert a.t1 is not None and a.t1.tzinfo is UTC and c.t1 == datetime(1960, 1, 1, tzinfo=UTC)
    assert b.t1 is not None and b.t1.utcoffset() == timedelta(hours=2)
    assert b.t2 is not None and b.t2.tzinfo is None
    assert back.created == T0 and back.ttl_tokens == record.ttl_tokens


def test_an_unpacked_record_shares_nothing_with_the_packed_one() -> None:
    record = EntityRecord("ip", "192.0.2.1", "192.0.2.1", exists=True)
    record.attrs["open_ports"] = {b"k": Row([22, 80], "[22,80]")}
    blob = pack(record)
    first = unpack(blob)
    first.attrs["open_ports"][b"k"].value.append(443)
    assert unpack(blob).attrs["open_ports"][b"k"].value == [22, 80]


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.dirty_rows.add(("asn", b"")),
        lambda r: setattr(r, "dirty_meta", True),
        lambda r: setattr(r, "deleted", True),
        lambda r: r.quarantined.append(QuarantinedRow("asn", b"", "x", "bad")),
        lambda r: r.dropped_links.append(("domain", "domain", "example.com")),
    ],
)
def test_only_a_clean_record_packs(change: object) -> None:
    record = EntityRecord("ip", "192.0.2.1", "192.0.2.1", exists=True)
    assert packable(record)
    change(record)  # type: ignore[operator]
    assert not packable(record)
