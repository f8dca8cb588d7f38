"""``RowBinder`` binds exactly what the driver's ``bind`` binds, and the rows read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from ipaddress import IPv4Address
from typing import Any

from streamcore.state.binding import RowBinder
from streamcore.state.cassandra import _UPSERT_REPEATS, CassandraStore, create_schema
from streamcore.state.schema import table_ddl

T = datetime(2026, 11, 25, 12, 30, 1, 123000, tzinfo=UTC)
ROWS = [
    ("ip", "10.0.0.1", "open_ports", b"\x00" * 16, "[22,80]", T, T, 1.0, None, 3600),
    ("ip", "10.0.0.1", "asn", b"", "64500", T, None, None, "src", 0),
    ("ip", "10.0.0.2", "note", b"k", '"žluť 🐴"', T, T + timedelta(days=1), 0.25, "ünï", 7),
    # Same instant in another zone, naive, before the epoch, sub-millisecond: the driver's
    # own conversions decide, and the binder must not mix them up.
    ("ip", "10.0.0.2", "t", b"k", "1", T.astimezone(timezone(timedelta(hours=2))), T, 0.0, "", 1),
    (
        "ip",
        "10.0.0.2",
        "t",
        b"k",
        "1",
        T.replace(tzinfo=None),
        T.replace(microsecond=5),
        None,
        "",
        1,
    ),
    (
        "ip",
        "x",
        "t",
        b"k",
        "1",
        datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        T,
        -1.5,
        "",
        1,
    ),
]


def test_bound_values_are_the_drivers(cassandra_session: Any, keyspace: str) -> None:
    for ddl in table_ddl(keyspace):
        cassandra_session.execute(ddl, timeout=60)
    prepared = cassandra_session.prepare(
        f"INSERT INTO {keyspace}.entity_state (etype, eid, attr, key, v, t1, t2, c, src) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?"
    )
    binder = RowBinder(prepared, _UPSERT_REPEATS)
    # Otherwise both sides below are the driver's bind and the test compares nothing.
    assert binder.fast and len(prepared.column_metadata) == len(ROWS[0]) + 1
    for _ in range(2):  # the second round binds from the binder's memory
        for stamp, row in enumerate(ROWS, start=1_764_000_000_000_000):
            values = (*row, stamp)  # the write timestamp (state/fence.py)
            ours, theirs = binder.bind(values), prepared.bind(values)
            assert ours.values == theirs.values, row
            assert ours.routing_key == theirs.routing_key
            assert ours.keyspace == theirs.keyspace == keyspace


def test_written_rows_read_back(cassandra_session: Any, keyspace: str) -> None:
    from streamcore.config.samples import example_model
    from streamcore.state.record import EntityRecord, Row

    create_schema(cassandra_session, keyspace)
    store = CassandraStore(cassandra_session, keyspace, example_model())
    record = EntityRecord("ip", "192.0.2.1", "192.0.2.1")
    record.exists, record.created, record.created_by, record.dirty_meta = True, T, "t:0:1", True
    record.put("asn", b"", Row(64500, "64500", t1=T, src="s"))
    record.put("hostname", b"k1", Row("a.example", '"a.example"', t1=T, t2=T, c=0.5))
    assert store.write([record], T) == 4  # meta, two rows, and the entity_index row
    assert record.indexed and store.eids("ip") == [IPv4Address("192.0.2.1")]
    record.ttl_tokens["base"] = T + timedelta(days=1)
    record.dirty_meta = True
    assert store.write([record], T) == 1  # a TTL change: meta only, the index is stored
    loaded = store.load([("ip", "192.0.2.1")])[0]
    assert loaded.exists and loaded.indexed
    assert loaded.created == T and loaded.created_by == "t:0:1"
    assert loaded.ttl_tokens == {"base": T + timedelta(days=1)}
    assert loaded.attrs["asn"][b""] == Row(64500, "64500", t1=T, src="s")
    assert loaded.attrs["hostname"][b"k1"] == Row("a.example", '"a.example"', t1=T, t2=T, c=0.5)
