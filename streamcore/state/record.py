"""An entity's master record in memory: what the worker reads, changes and writes back.

Rows mirror the Cassandra layout (``state/schema.py``): one row per plain value, per
observation interval and per timeseries chunk, each addressed by ``(attr, key)``. The
record remembers which rows changed, so a batch writes only those, once, at its end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

PLAIN_KEY = b""


@dataclass(slots=True)
class Row:
    """One stored value. ``value`` is canonical (parsed by the model); ``v_json`` caches its
    stored form so comparisons and writes don't re-serialize."""

    value: Any
    v_json: str
    t1: datetime | None = None
    t2: datetime | None = None
    c: float | None = None
    src: str | None = None


@dataclass(slots=True)
class SettledRows:
    """An aggregated attribute's rows in the order of DP³'s aggregation pass, as the last
    pass left them (``state/merge.py``), so the next pass can start where its data-points
    land instead of at the first row. Trusted only while ``holds``: a row put, removed or
    read again since is another object, and the next pass goes over every row again."""

    keys: list[bytes]
    rows: list[Row]

    def holds(self, rows: dict[bytes, Row]) -> bool:
        if len(rows) != len(self.keys):
            return False
        get = rows.get
        return all(get(key) is row for key, row in zip(self.keys, self.rows, strict=True))


@dataclass(frozen=True, slots=True)
class QuarantinedRow:
    """A stored row that could not be read back: kept out of the record, reported, and
    removed by the next write, so one bad row never stops every future load."""

    attr: str
    key: bytes
    v: str | None
    error: str


@dataclass(slots=True)
class EntityRecord:
    etype: str
    eid: Any
    eid_key: str
    exists: bool = False
    created: datetime | None = None
    created_by: str | None = None
    ttl_tokens: dict[str, datetime] = field(default_factory=dict)
    attrs: dict[str, dict[bytes, Row]] = field(default_factory=dict)
    dirty_rows: set[tuple[str, bytes]] = field(default_factory=set)
    dirty_meta: bool = False
    indexed: bool = False
    """The entity's ``entity_index`` row is known to be stored (set by the store on load
    and write), so meta changes (TTL tokens) needn't write it again. The processor clears
    it on creation, so a replayed creation writes it again."""
    deleted: bool = False
    stamp: int | None = None
    """Write timestamp (microseconds) for the next write: set by the worker from the
    partition's fence (``state/fence.py``), so a worker that lost the partition writes
    with older timestamps than its new owner and loses every conflict. None: now."""
    quarantined: list[QuarantinedRow] = field(default_factory=list)
    """Rows of the last load that could not be parsed (see ``QuarantinedRow``)."""
    dropped_links: list[tuple[str, str, str]] = field(default_factory=list)
    """Links the entity no longer has (attribute, type, stored id): deleted, replaced or
    removed; the store removes them from the link index (``state/links.py``)."""
    settled: dict[str, SettledRows] = field(default_factory=dict, compare=False, repr=False)
    """Aggregated attributes' rows in aggregation order (``SettledRows``): memory only,
    never stored or packed, not part of what the record holds."""

    def rows(self, attr: str) -> dict[bytes, Row]:
        return self.attrs.setdefault(attr, {})

    def put(self, attr: str, key: bytes, row: Row) -> None:
        self.rows(attr)[key] = row
        self.dirty_rows.add((attr, key))

    def remove(self, attr: str, key: bytes) -> None:
        if self.attrs.get(attr, {}).pop(key, None) is not None:
            self.dirty_rows.add((attr, key))

    def plain(self, attr: str) -> Any:
        """The current value of a plain attribute, or None."""
        row = self.attrs.get(attr, {}).get(PLAIN_KEY)
        return row.value if row is not None else None

    def clear(self) -> None:
        """Forget everything (entity deleted); the store drops the partition."""
        self.attrs.clear()
        self.settled.clear()
        self.ttl_tokens.clear()
        self.dirty_rows.clear()
        self.exists = False
        self.created = None
        self.created_by = None
        self.deleted = True
        self.dirty_meta = False
        self.indexed = False

    def mark_clean(self) -> None:
        self.dropped_links.clear()
        self.dirty_rows.clear()
        self.dirty_meta = False
        self.deleted = False
