"""An entity record packed into one ``bytes``: how the entity cache keeps the records it
is not using right now at a fraction of their object size.

A record's object graph (a dataclass per row, a dict per attribute, datetimes, floats) is
about 8.5 KB on the bench load's shape; packed, the same record is under 2 KB
(``bench/cache_memory.py``). Packing and unpacking cost CPU, but far less than reading the
entity from Cassandra again, which is what evicting it would cost.

Only a clean record packs (nothing dirty, quarantined or waiting to be unlinked): what
the cache keeps must equal the stored state, and the per-batch fields (``stamp``) are set
anew by every batch. UTC datetimes travel as microseconds since the epoch; anything else
goes through pickle as it is.
"""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from typing import Any

from streamcore.state.record import EntityRecord, Row

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _out(moment: datetime | None) -> Any:
    if moment is None or moment.tzinfo is not UTC:
        return moment
    return (moment - EPOCH) // _MICROSECOND


def _in(packed: Any, seen: dict[int, datetime]) -> Any:
    """The datetime back; equal instants share one object (immutable, and most rows of a
    record share their times: t1 == t2, one timestamp per task)."""
    if type(packed) is not int:
        return packed
    moment = seen.get(packed)
    if moment is None:
        moment = seen[packed] = EPOCH + timedelta(microseconds=packed)
    return moment


def packable(record: EntityRecord) -> bool:
    return not (
        record.dirty_rows
        or record.dirty_meta
        or record.deleted
        or record.quarantined
        or record.dropped_links
    )


def pack(record: EntityRecord) -> bytes:
    """``record`` as bytes (``packable(record)`` must hold); raises what pickle raises for
    a value it cannot pickle."""
    attrs: list[Any] = []
    for attr, rows in record.attrs.items():
        flat: list[Any] = []
        for key, row in rows.items():
            flat += (key, row.value, row.v_json, _out(row.t1), _out(row.t2), row.c, row.src)
        attrs += (attr, flat)
    tokens: list[Any] = []
    for name, moment in record.ttl_tokens.items():
        tokens += (name, _out(moment))
    state = (
        record.etype,
        record.eid,
        record.eid_key,
        record.exists,
        _out(record.created),
        record.created_by,
        record.indexed,
        tokens,
        attrs,
    )
    return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(blob: bytes) -> EntityRecord:
    etype, eid, eid_key, exists, created, created_by, indexed, tokens, attrs = pickle.loads(blob)
    seen: dict[int, datetime] = {}
    record = EntityRecord(etype, eid, eid_key, exists, _in(created, seen), created_by)
    record.indexed = indexed
    for i in range(0, len(tokens), 2):
        record.ttl_tokens[tokens[i]] = _in(tokens[i + 1], seen)
    for i in range(0, len(attrs), 2):
        flat = attrs[i + 1]
        rows: dict[bytes, Row] = {}
        for j in range(0, len(flat), 7):
            rows[flat[j]] = Row(
                flat[j + 1],
                flat[j + 2],
                _in(flat[j + 3], seen),
                _in(flat[j + 4], seen),
                flat[j + 5],
                flat[j + 6],
            )
        record.attrs[attrs[i]] = rows
    return record
