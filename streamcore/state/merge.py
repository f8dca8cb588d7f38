"""DP³'s rules for folding data-points into an entity's record (pure, no I/O).

* plain: the new value replaces the old one;
* observations: rows are validity intervals; with ``aggregate``, DP³'s aggregation of
  equal values (``aggregate_on_equal``) runs over the stored rows and each task's
  data-points (interval union, confidence averaged);
* timeseries: one row per chunk, keyed by its start.

Plain, timeseries and unaggregated observation rules are idempotent: applying a
data-point that the record already holds changes nothing. An aggregated observation
delivered twice is averaged in twice, as DP³'s aggregation does. Row keys come from the
row's content, never from a counter, so a replay rewrites the same rows.

Every rule is total over the times the model accepts: a time plus a validity, ``max_age``
or TTL saturates at the ends of the datetime range (``shift``) instead of overflowing,
and ``storable_ttl`` turns any expiry into a TTL Cassandra accepts.
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from streamcore.model.datapoint import DataPoint
from streamcore.model.spec import (
    AttrSpecObservations,
    AttrSpecTimeseries,
    EntitySpec,
    TimeToLiveLifetime,
    history_max_age,
)
from streamcore.state.encoding import dumps
from streamcore.state.record import PLAIN_KEY, EntityRecord, Row, SettledRows

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TIME_FLOOR = datetime.min.replace(tzinfo=UTC)
TIME_CEILING = datetime.max.replace(tzinfo=UTC, microsecond=999_000)
"""Saturated times, in whole milliseconds (Cassandra's unit: the driver rounds a
sub-millisecond ``datetime.max`` up into year 10000, which it then can't read back)."""

MAX_TTL_SECONDS = 630_720_000
"""Cassandra's largest TTL (20 years); a larger one is refused ("ttl is too large")."""
MAX_EXPIRATION = datetime(2038, 1, 19, 3, 14, 6, tzinfo=UTC)
"""The latest expiry Cassandra 5.0 stores in its default ``storage_compatibility_mode``
(CASSANDRA_4: 32-bit expiration times); a write expiring later is refused."""


def shift(moment: datetime, delta: timedelta) -> datetime:
    """``moment + delta``, saturating at the ends of the datetime range (a far-future
    observation plus its validity or ``max_age`` compares as "never", not an error)."""
    try:
        return moment + delta
    except OverflowError:
        return TIME_CEILING if delta > timedelta(0) else TIME_FLOOR


def storable_ttl(expires: datetime | None, now: datetime) -> int | None:
    """The TTL in seconds for a row expiring at ``expires`` (None: no expiry), clamped so
    Cassandra stores it: at most ``MAX_TTL_SECONDS`` and, until then, ``MAX_EXPIRATION``.

    A row that should live longer is kept as long as Cassandra can keep it (documented in
    the README); one already expired gives ``<= 0`` and the caller skips it.
    """
    if expires is None:
        return None
    limit = MAX_TTL_SECONDS
    if now < MAX_EXPIRATION:
        limit = min(limit, int((MAX_EXPIRATION - now).total_seconds()))
    return min(math.ceil((expires - now).total_seconds()), limit)


def to_millis(moment: datetime) -> datetime:
    """Cassandra keeps milliseconds; rounding first keeps replays byte-identical."""
    micros = moment.microsecond
    if micros % 1000 == 0:
        return moment  # already whole milliseconds (most decoded times)
    return moment.replace(microsecond=micros - micros % 1000)


def interval_key(t1: datetime, t2: datetime | None, v_json: str) -> bytes:
    """Sorts by start time; the digest tells apart rows starting together.

    Aggregated rows are keyed without ``t2``: extending an interval forward (the common
    case) then rewrites one row instead of deleting one and inserting another.
    """
    micros = (t1 - _EPOCH) // timedelta(microseconds=1)
    tail = v_json if t2 is None else f"{v_json}|{t2.isoformat()}"
    digest = hashlib.blake2b(tail.encode(), digest_size=8).digest()
    return struct.pack(">q", micros) + digest


def chunk_key(t1: datetime) -> bytes:
    return struct.pack(">q", (t1 - _EPOCH) // timedelta(microseconds=1))


def apply_plain(record: EntityRecord, dp: DataPoint, now: datetime) -> None:
    now = to_millis(now)
    v_json = dumps(dp.v)
    current = record.attrs.get(dp.attr, {}).get(PLAIN_KEY)
    if current is not None and current.v_json == v_json and current.src == dp.src:
        return
    record.put(dp.attr, PLAIN_KEY, Row(dp.v, v_json, t1=now, src=dp.src))


def apply_observation(
    record: EntityRecord, spec: AttrSpecObservations, dp: DataPoint, max_items: int | None = None
) -> None:
    """One data-point of ``spec`` (``apply_observations`` with one)."""
    apply_observations(record, spec, [dp], max_items)


def apply_observations(
    record: EntityRecord,
    spec: AttrSpecObservations,
    dps: list[DataPoint],
    max_items: int | None = None,
) -> None:
    """Add ``dps`` (one attribute's data-points of one task) to the history, then, with
    ``aggregate``, merge it as DP³'s aggregation does (``aggregate_on_equal``).

    DP³ pushes raw data-points and aggregates the stored history on
    ``aggregation_schedule``; here the same function runs on the stored rows plus each
    task's data-points, so rows are stored aggregated. On the same inputs the result is
    DP³'s: data-points of one task are one pass, later tasks later passes (DP³'s own
    passes lose the merge counts too). A data-point delivered twice is averaged in twice,
    as in DP³ (a redelivered task there, a replay after a crash here).

    ``max_items`` (opt-in, ``STREAMCORE_WORKER__ENFORCE_MAX_ITEMS``): keep at most that
    many rows, the newest. DP³ documents ``max_items`` as not implemented and keeps all.
    """
    params = spec.history_params
    attr = dps[0].attr
    rows = record.rows(attr)
    new = [_point(dp) for dp in dps]
    if not params.aggregate:
        for point in new:
            key = interval_key(point.t1, point.t2, point.v_json)
            existing = rows.get(key)
            if existing is None or existing.c != point.c:
                record.put(attr, key, point.row())
    else:
        _aggregate_into(
            record,
            attr,
            new,
            pre=params.pre_validity,
            post=params.post_validity,
            multi_value=spec.multi_value,
        )
    if max_items is not None and len(rows) > max_items:
        _keep_newest(record, attr, max_items)
        record.settled.pop(attr, None)


@dataclass(slots=True)
class HistoryRow:
    """A history row while aggregating; ``key`` is its stored key (None: not stored)."""

    value: Any
    v_json: str
    t1: datetime
    t2: datetime
    c: float
    src: str | None = None
    key: bytes | None = None

    def row(self) -> Row:
        return Row(self.value, self.v_json, t1=self.t1, t2=self.t2, c=self.c, src=self.src)

    def copy(self) -> HistoryRow:
        """A shallow copy (``dataclasses.replace`` costs ~10x more: the merge's hot path)."""
        return HistoryRow(self.value, self.v_json, self.t1, self.t2, self.c, self.src, self.key)


def stored_rows(rows: dict[bytes, Row]) -> list[HistoryRow]:
    """An attribute's stored rows, ready for ``aggregate_on_equal`` (in key order: start)."""
    return [
        _history_row(key, row)
        for key, row in rows.items()
        if row.t1 is not None and row.t2 is not None
    ]


def _point(dp: DataPoint) -> HistoryRow:
    assert dp.t1 is not None and dp.t2 is not None
    return HistoryRow(dp.v, dumps(dp.v), to_millis(dp.t1), to_millis(dp.t2), _c(dp.c), dp.src)


def _c(confidence: float | None) -> float:
    return 1.0 if confidence is None else confidence


def aggregate_on_equal(
    history: list[HistoryRow], pre: timedelta, post: timedelta, multi_value: bool
) -> list[HistoryRow]:
    """DP³'s ``aggregate_dp_history_on_equal`` (single value) and
    ``aggregate_multivalue_dp_history_on_equal`` (``multi_value``), on the same terms.

    Rows are sorted by ``t1``; rows starting together are taken in value order (DP³: in
    the order they were pushed, which a replay or a second worker can't reproduce), so a
    repeated data-point lands next to its own value's row. A row joins the row being built
    when their values are equal and ``built.t2 + post >= row.t1 - pre``; single-value
    attributes build one row at a time (a different value in between ends it),
    multi-value ones one per value. A built row's confidence is the mean of the
    confidences merged into it in this pass.
    """
    built: list[tuple[HistoryRow, float, int]] = []  # (row, sum of c, merged count)
    _fold(sorted(history, key=_order), built, {}, pre=pre, post=post, multi_value=multi_value)
    return _finish(built)


def _order(point: HistoryRow) -> tuple[datetime, str]:
    return (point.t1, point.v_json)


def _fold(
    points: list[HistoryRow],
    built: list[tuple[HistoryRow, float, int]],
    open_rows: dict[str, int],
    *,
    pre: timedelta,
    post: timedelta,
    multi_value: bool,
) -> None:
    """``aggregate_on_equal``'s pass over ``points`` (sorted), from the state ``built`` and
    ``open_rows`` (value -> index in ``built`` of the row being built) leave it in."""
    for point in points:
        index = open_rows.get(point.v_json)
        if index is not None:
            row, total, count = built[index]
            if shift(row.t2, post) >= shift(point.t1, -pre):
                if count == 1:  # copied on its first merge: the caller's rows stay as given
                    row = row.copy()
                row.t2 = max(row.t2, point.t2)
                built[index] = (row, total + point.c, count + 1)
                continue
        if not multi_value:
            open_rows.clear()
        open_rows[point.v_json] = len(built)
        built.append((point, point.c, 1))


def _finish(built: list[tuple[HistoryRow, float, int]]) -> list[HistoryRow]:
    for row, total, count in built:
        if count > 1:
            row.c = total / count
            row.key = None  # changed: written again
    return [row for row, _, _ in built]


def _aggregate_into(
    record: EntityRecord,
    attr: str,
    new: list[HistoryRow],
    *,
    pre: timedelta,
    post: timedelta,
    multi_value: bool,
) -> None:
    """``aggregate_on_equal`` over the attribute's rows and ``new``, written back.

    Every pass leaves the rows in its order (``record.settled``), and a pass's output passes
    through another unchanged (no two of its rows would merge). So while that order still
    holds, the rows before the first new point stay as they are, and only the rows being
    built there (single value: the last one; multi-value: the last one of each new point's
    value) and the rows after it go through the pass again: the same result as a pass over
    every row (a property test compares them), at the cost of the history's tail.
    """
    rows = record.rows(attr)
    settled = record.settled.get(attr)
    if settled is None or not settled.holds(rows):
        merged = aggregate_on_equal(stored_rows(rows) + new, pre, post, multi_value)
        kept = {point.key for point in merged if point.key is not None}
        for key in [key for key in rows if key not in kept]:
            record.remove(attr, key)
        keys = [_written(record, attr, point) for point in merged]
        record.settled[attr] = SettledRows(keys, [rows[key] for key in keys])
        return
    first = min(new, key=_order)
    start = _first_after(settled.rows, first.t1, first.v_json)
    seeds = _open_rows_before(settled.rows, start, new, multi_value)
    built: list[tuple[HistoryRow, float, int]] = []
    open_rows: dict[str, int] = {}
    for index in seeds:
        point = _history_row(settled.keys[index], settled.rows[index])
        open_rows[point.v_json] = len(built)
        built.append((point, point.c, 1))
    tail = [_history_row(settled.keys[i], settled.rows[i]) for i in range(start, len(rows))]
    points = sorted(tail + new, key=_order)
    _fold(points, built, open_rows, pre=pre, post=post, multi_value=multi_value)
    merged = _finish(built)
    kept = {point.key for point in merged if point.key is not None}
    for index in seeds:
        if settled.keys[index] not in kept:
            record.remove(attr, settled.keys[index])
    for key in settled.keys[start:]:
        if key not in kept:
            record.remove(attr, key)
    keys = settled.keys[:start]
    for index, point in zip(seeds, merged, strict=False):
        keys[index] = _written(record, attr, point)
    keys.extend(_written(record, attr, point) for point in merged[len(seeds) :])
    record.settled[attr] = SettledRows(keys, [rows[key] for key in keys])


def _first_after(rows: list[Row], t1: datetime, v_json: str) -> int:
    """The index of the first of ``rows`` (in pass order) that a point at ``t1`` with
    ``v_json`` sorts before: a stored row sorts before an equal new point, as in a pass
    over ``stored_rows(...) + new``."""
    low, high = 0, len(rows)
    while low < high:
        middle = (low + high) // 2
        row = rows[middle]
        assert row.t1 is not None
        if row.t1 > t1 or (row.t1 == t1 and row.v_json > v_json):
            high = middle
        else:
            low = middle + 1
    return low


def _open_rows_before(
    rows: list[Row], start: int, new: list[HistoryRow], multi_value: bool
) -> list[int]:
    """Indexes of the rows a pass would still be building at ``start``, among those new
    points can join (ascending): single value, the last row; multi-value, the last row of
    each new point's value (a row of another value joins none of them now either)."""
    if start == 0:
        return []
    if not multi_value:
        return [start - 1]
    wanted = {point.v_json for point in new}
    found: list[int] = []
    index = start - 1
    while index >= 0 and wanted:
        v_json = rows[index].v_json
        if v_json in wanted:
            wanted.discard(v_json)
            found.append(index)
        index -= 1
    found.reverse()
    return found


def _history_row(key: bytes, row: Row) -> HistoryRow:
    assert row.t1 is not None and row.t2 is not None
    return HistoryRow(row.value, row.v_json, row.t1, row.t2, _c(row.c), row.src, key)


def _written(record: EntityRecord, attr: str, point: HistoryRow) -> bytes:
    """The key of a merged row, put first if it changed: keyed by its start and value (so
    extending it forward rewrites one row), or also by its end when another row already
    has that key."""
    if point.key is not None:
        return point.key
    key = interval_key(point.t1, None, point.v_json)
    if key in record.rows(attr):
        key = interval_key(point.t1, point.t2, point.v_json)
    record.put(attr, key, point.row())
    return key


def _keep_newest(record: EntityRecord, attr: str, limit: int) -> None:
    rows = record.rows(attr)
    by_age = sorted(rows, key=lambda k: (rows[k].t2 or _EPOCH, k))
    for key in by_age[: len(rows) - limit]:
        record.remove(attr, key)


def apply_timeseries(record: EntityRecord, dp: DataPoint) -> None:
    assert dp.t1 is not None
    v_json = dumps(dp.v)
    t1 = to_millis(dp.t1)
    t2 = to_millis(dp.t2) if dp.t2 is not None else t1
    key = chunk_key(t1)
    current = record.rows(dp.attr).get(key)
    if current is not None and current.v_json == v_json and current.t2 == t2:
        return
    record.put(dp.attr, key, Row(dp.v, v_json, t1=t1, t2=t2, src=dp.src))


def row_expiry(spec: Any, row: Row) -> datetime | None:
    """When a row falls out of history (``max_age`` after its end), if ever."""
    max_age = history_max_age(spec)
    if max_age is None or row.t2 is None:
        return None
    return shift(row.t2, max_age)


def prune_expired_tokens(record: EntityRecord, now: datetime) -> None:
    """Drop the tokens that expired before ``now`` while another one is still alive (DP³'s
    ``remove_expired_ttls``, which its collector runs for every entity it keeps); an entity
    whose tokens all expired keeps them, for the collector to delete it."""
    expired = [name for name, expires in record.ttl_tokens.items() if expires < now]
    if expired and len(expired) < len(record.ttl_tokens):
        for name in expired:
            del record.ttl_tokens[name]
        record.dirty_meta = True


def extend_ttl(record: EntityRecord, tokens: dict[str, datetime]) -> None:
    """Keep the latest expiry of each named token (TTL tokens only ever extend).

    Kept in whole milliseconds, as Cassandra stores them, so a replay compares equal."""
    for name, given in tokens.items():
        expires = to_millis(given)
        current = record.ttl_tokens.get(name)
        if current is None or expires > current:
            record.ttl_tokens[name] = expires
            record.dirty_meta = True


@dataclass(frozen=True, slots=True)
class LifetimeRule:
    """The TTL token a data-point of one attribute gives a ``ttl``-lifetime entity, as DP³'s
    garbage collector computes it: ``data`` = ``t2 + extend_by`` for observations and
    timeseries, ``now + extend_by`` for plain values. Derived once per attribute
    (``lifetime_rule``)."""

    extend_by: timedelta
    from_t2: bool

    def tokens(self, dp: DataPoint, now: datetime) -> dict[str, datetime]:
        if self.from_t2:
            if dp.t2 is None:
                return {}
            return {"data": shift(dp.t2, self.extend_by)}
        return {"data": shift(now, self.extend_by)}


def lifetime_rule(entity: EntitySpec, spec: Any) -> LifetimeRule | None:
    """None when data-points of ``spec`` never give ``entity`` tokens (most attributes).

    DP³ (``GarbageCollector._register_ttl_extensions``): with ``mirror_data`` and a
    ``max_age``, an observation or timeseries extends by ``max(ttl, max_age)``, else by
    ``ttl``; a plain value by its ``ttl``, counted from its arrival."""
    lifetime = entity.lifetime
    if not isinstance(lifetime, TimeToLiveLifetime):
        return None
    ttl = spec.ttl or None
    if not isinstance(spec, AttrSpecObservations | AttrSpecTimeseries):
        return LifetimeRule(ttl, from_t2=False) if ttl is not None else None
    max_age = history_max_age(spec)
    extend_by = max(ttl, max_age) if ttl and max_age else ttl or max_age
    if not lifetime.mirror_data or max_age is None:
        extend_by = ttl
    return LifetimeRule(extend_by, from_t2=True) if extend_by else None


def lifetime_tokens(
    entity: EntitySpec, spec: Any, dp: DataPoint, now: datetime
) -> dict[str, datetime]:
    """The TTL tokens a data-point gives a ``ttl``-lifetime entity (none for others)."""
    rule = lifetime_rule(entity, spec)
    return rule.tokens(dp, now) if rule is not None else {}


def creation_tokens(entity: EntitySpec, now: datetime) -> dict[str, datetime]:
    lifetime = entity.lifetime
    if isinstance(lifetime, TimeToLiveLifetime):
        return {"base": shift(now, lifetime.on_create)}
    return {}
