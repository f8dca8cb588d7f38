"""Snapshot storage and the entity scan a snapshot task reads.

``scan(task, tasks)``: the entity records of one slice of the token ring. The run is split
into ``tasks`` equal token ranges of ``entity_state``; every entity's partition lies in
exactly one range, so the tasks of a run cover every stored entity exactly once, and one
paged range query streams whole records (rows arrive grouped by partition) with no
per-entity round trip.

Snapshots are written one row per entity with the retention as TTL (see
``snapshot_schema``), packed in token-aware unlogged batches; runs and finished tasks
are recorded for progress and completion.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from cassandra import ConsistencyLevel
from cassandra.cluster import ResponseFuture, Session
from cassandra.query import BatchStatement

from streamcore.errors import StateError
from streamcore.model.modelspec import ModelSpec
from streamcore.state.batches import BatchPacker, replica_of
from streamcore.state.binding import RowBinder
from streamcore.state.record import EntityRecord, QuarantinedRow, Row
from streamcore.state.schema import index_bucket
from streamcore.state.session import TUPLES_PROFILE
from streamcore.state.snapshot_schema import indexed_values
from streamcore.state.values import StoredValues

TOKEN_MIN = -(2**63)
TOKEN_MAX = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
IN_FLIGHT = 64
"""Snapshot batches in flight at once (each up to ``MAX_BATCH_ROWS`` rows)."""


def token_range(task: int, tasks: int) -> tuple[int, int]:
    """``(low, high]`` of task ``task`` of ``tasks`` (Murmur3 never assigns ``TOKEN_MIN``)."""
    span = (TOKEN_MAX - TOKEN_MIN) // tasks
    low = TOKEN_MIN + task * span
    return low, TOKEN_MAX if task == tasks - 1 else low + span


class SnapshotStore:
    def __init__(self, session: Session, keyspace: str, model: ModelSpec) -> None:
        self._session = session
        self._keyspace = keyspace
        self._metadata = session.cluster.metadata
        self._model = model
        self._values = StoredValues(model)
        ks = keyspace
        prepare = session.prepare
        self._scan = prepare(
            f"SELECT etype, eid, attr, key, v, t1, t2, c, src, created, created_by, ttl_tokens "
            f"FROM {ks}.entity_state WHERE token(etype, eid) > ? AND token(etype, eid) <= ?"
        )
        self._insert = prepare(
            f"INSERT INTO {ks}.snapshots (etype, eid, time, v) VALUES (?, ?, ?, ?) USING TTL ?"
        )
        self._latest_row = prepare(
            f"INSERT INTO {ks}.latest_snapshots (etype, bucket, eid, time, v, vals) "
            "VALUES (?, ?, ?, ?, ?, ?) USING TTL ?"
        )
        self._latest = prepare(
            f"SELECT time, v FROM {ks}.snapshots WHERE etype = ? AND eid = ? LIMIT 1"
        )
        self._between = prepare(
            f"SELECT time, v FROM {ks}.snapshots WHERE etype = ? AND eid = ? "
            "AND time >= ? AND time <= ?"
        )
        self._add_run = prepare(
            f"INSERT INTO {ks}.snapshot_runs (run, tasks, trigger, owner, created) "
            "VALUES (?, ?, ?, ?, ?)"
        )
        self._run = prepare(f"SELECT tasks FROM {ks}.snapshot_runs WHERE run = ?")
        self._done = prepare(
            f"INSERT INTO {ks}.snapshot_run_tasks (run, task, entities, worker) VALUES (?, ?, ?, ?)"
        )
        self._count_done = prepare(
            f"SELECT count(*) AS n, sum(entities) AS entities FROM {ks}.snapshot_run_tasks "
            "WHERE run = ?"
        )
        for statement in (
            self._scan,
            self._insert,
            self._latest_row,
            self._add_run,
            self._done,
            self._run,
            self._count_done,
        ):
            statement.consistency_level = ConsistencyLevel.LOCAL_QUORUM

    # The entity scan --------------------------------------------------------------------

    def scan(
        self, task: int, tasks: int, etypes: frozenset[str], page: int = 2000
    ) -> Iterator[list[EntityRecord]]:
        """Records of ``etypes`` in the task's token range, in lists of about ``page``.

        The first page is requested by this call (so several tasks' scans can start
        together), and each next page before the current one is parsed, so Cassandra
        reads while the caller works on the records already yielded. Rows come as the
        driver's plain tuples (``TUPLES_PROFILE``), ``page`` rows a page: pages of four
        times as many rows were measured slower (``bench/snapshots.py``: a task waits for
        its whole first page before any entity is worked on).
        """
        statement = self._scan.bind(token_range(task, tasks))
        statement.fetch_size = page
        future = self._scan_page(statement, None)
        return self._records(statement, future, etypes, page)

    def _scan_page(self, statement: Any, state: bytes | None) -> ResponseFuture:
        return self._session.execute_async(
            statement, timeout=120, paging_state=state, execution_profile=TUPLES_PROFILE
        )

    def _records(
        self, statement: Any, future: ResponseFuture | None, etypes: frozenset[str], page: int
    ) -> Iterator[list[EntityRecord]]:
        """The rows of the scan (``SELECT``'s column order) into records, entity by entity:
        rows arrive grouped by partition, so a new (etype, eid) starts the next record."""
        chunk = _Page()
        record: EntityRecord | None = None
        etype = eid = None
        while future is not None:
            result = _result(future)
            rows, state = result.current_rows, result.paging_state
            future = None if state is None else self._scan_page(statement, state)
            for row in rows:
                if row[1] != eid or row[0] != etype:
                    etype, eid = row[0], row[1]
                    if record is not None and record.exists:
                        chunk.records.append(record)
                        if len(chunk.records) >= page:
                            yield chunk.take()
                    record = self._start(row) if etype in etypes else None
                if record is not None and row[2] is not None:
                    self._add(record, row)
        if record is not None and record.exists:
            chunk.records.append(record)
        if chunk.records:
            yield chunk.take()

    def _start(self, row: tuple[Any, ...]) -> EntityRecord:
        etype, eid, created, ttl_tokens = row[0], row[1], row[9], row[11]
        record = EntityRecord(etype, self._values.eid(etype, eid), eid)
        record.exists = created is not None
        record.created = _utc(created)
        record.created_by = row[10]
        if ttl_tokens:
            record.ttl_tokens = {k: _utc_now(v) for k, v in ttl_tokens.items()}
        return record

    def _add(self, record: EntityRecord, row: tuple[Any, ...]) -> None:
        """One stored row into ``record`` (rows of attributes the model lacks are skipped).

        Runs for every row of a run: one reader lookup, timestamps made aware inline.
        """
        _, _, attr, key, text, t1, t2, c, src = row[:9]
        read = self._values.reader(record.etype, attr)
        if read is None:
            return
        try:
            value = read(text)
        except Exception as exc:  # quarantined by the worker at the entity's next load
            record.quarantined.append(QuarantinedRow(attr, key, text, repr(exc)))
            return
        rows = record.attrs.get(attr)
        if rows is None:
            rows = record.attrs[attr] = {}
        rows[key] = Row(
            value,
            text,
            t1=t1 if t1 is None or t1.tzinfo else t1.replace(tzinfo=UTC),
            t2=t2 if t2 is None or t2.tzinfo else t2.replace(tzinfo=UTC),
            c=c,
            src=src,
        )

    # Snapshots --------------------------------------------------------------------------

    def save(
        self,
        snapshots: Iterable[tuple[str, str, str]],
        time: datetime,
        ttl: int,
        writes: SnapshotWrites | None = None,
    ) -> int:
        """Write ``(etype, eid text, values JSON)`` rows at ``time`` (each also as the
        entity's ``latest_snapshots`` row); returns how many snapshots.

        Rows go in token-aware unlogged batches (``BatchPacker``), sent together. Without
        ``writes`` this returns when every batch is acknowledged; with it, the batches
        stay in flight in ``writes`` until its ``wait`` (so the caller can compute the
        next page meanwhile).
        """
        millis = _millis(time)  # the driver's datetime conversion costs more than the row
        packer = BatchPacker(ConsistencyLevel.LOCAL_QUORUM)
        flight = writes or self.writes()
        # etype, time and TTL repeat on every row, a bucket on many: serialized once each.
        insert = RowBinder(self._insert, (True, False, True, False, True))
        latest = RowBinder(self._latest_row, (True, True, False, True, False, False, True))
        # A latest_snapshots partition's replica, looked up once: a type has INDEX_BUCKETS.
        # (Batches by partition instead of by replica were measured no cheaper for
        # Cassandra, and dearer for the driver with small pages.)
        replicas: dict[tuple[str, int], Any] = {}
        for etype, eid, text in snapshots:
            row = insert.bind((etype, eid, millis, text, ttl))
            size = 64 + len(text)
            packer.add(replica_of(self._metadata, self._keyspace, row), [(row, size)])
            bucket = index_bucket(eid)
            vals = indexed_values(text)
            latest_row = latest.bind((etype, bucket, eid, millis, text, vals, ttl))
            replica = replicas.get((etype, bucket))
            if replica is None:
                replica = replicas[etype, bucket] = replica_of(
                    self._metadata, self._keyspace, latest_row
                )
            packer.add(replica, [(latest_row, size)])
        flight.send(packer.batches())  # together: measured faster than each as it fills
        if writes is None:
            flight.wait()
        return packer.rows // 2

    def writes(self) -> SnapshotWrites:
        """An empty set of in-flight snapshot writes, for ``save``."""
        return SnapshotWrites(self._session)

    def latest(self, etype: str, eid: str) -> tuple[datetime, dict[str, Any]] | None:
        """The newest snapshot of an entity, or None."""
        row = self._session.execute(self._latest, (etype, eid)).one()
        return None if row is None else (_utc_now(row.time), json.loads(row.v))

    def between(
        self, etype: str, eid: str, t1: datetime, t2: datetime
    ) -> list[tuple[datetime, dict[str, Any]]]:
        """Snapshots of an entity taken from ``t1`` to ``t2`` (inclusive), newest first."""
        rows = self._session.execute(self._between, (etype, eid, t1, t2))
        return [(_utc_now(row.time), json.loads(row.v)) for row in rows]

    # Runs -------------------------------------------------------------------------------

    def add_run(self, run: datetime, tasks: int, trigger: str, owner: str) -> None:
        self._session.execute(self._add_run, (run, tasks, trigger, owner, datetime.now(UTC)))

    def run_tasks(self, run: datetime) -> int | None:
        row = self._session.execute(self._run, (run,)).one()
        return None if row is None else int(row.tasks)

    def task_done(self, run: datetime, task: int, entities: int, worker: str) -> None:
        self._session.execute(self._done, (run, task, entities, worker))

    def progress(self, run: datetime) -> tuple[int, int]:
        """(tasks finished, entities snapshotted) of a run."""
        row = self._session.execute(self._count_done, (run,)).one()
        return int(row.n), int(row.entities or 0)


class SnapshotWrites:
    """Snapshot batches sent and not yet acknowledged (at most ``IN_FLIGHT``).

    A snapshot task calls ``wait`` before it records itself done, so a task is only ever
    marked done after all its snapshots are durable.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._pending: list[ResponseFuture] = []

    def send(self, batches: list[BatchStatement]) -> None:
        for batch in batches:
            if len(self._pending) >= IN_FLIGHT:
                _wait(self._pending)
            self._pending.append(self._session.execute_async(batch))

    def wait(self) -> None:
        """Return when every batch sent is acknowledged; ``StateError`` if one failed."""
        _wait(self._pending)


class _Page:
    """The records of the page being gathered. ``take`` hands them over and keeps no
    reference (a generator's local would hold a yielded page until the next one): the
    snapshot worker collects cyclic garbage after each page, and a page still alive then
    would be walked and moved to the oldest generation."""

    __slots__ = ("records",)

    def __init__(self) -> None:
        self.records: list[EntityRecord] = []

    def take(self) -> list[EntityRecord]:
        records, self.records = self.records, []
        return records


def _result(future: ResponseFuture) -> Any:
    try:
        return future.result()
    except Exception as exc:
        raise StateError(f"scanning entity state failed: {exc}") from exc


def _wait(pending: list[ResponseFuture]) -> None:
    try:
        for future in pending:
            future.result()
    except Exception as exc:
        raise StateError(f"writing snapshots failed: {exc}") from exc
    finally:
        pending.clear()


def _millis(time: datetime) -> int:
    """Milliseconds since the epoch, as the driver would store ``time`` (exact integers)."""
    return (_utc_now(time) - _EPOCH) // timedelta(milliseconds=1)


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _utc_now(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
