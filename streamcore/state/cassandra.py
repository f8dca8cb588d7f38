"""Entity state in Cassandra: load whole records, write back what changed.

Writes of one entity go in one unlogged single-partition batch (atomic and isolated for
that partition in Cassandra), all entities of a worker batch in parallel; ``write``
returns only when every batch is acknowledged, which is what "durable" means for the
commit order in the worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cassandra import ConsistencyLevel
from cassandra.cluster import ResponseFuture, Session
from cassandra.query import PreparedStatement

from streamcore.errors import StateError
from streamcore.model.modelspec import ModelSpec
from streamcore.state.batches import BatchPacker
from streamcore.state.binding import RowBinder
from streamcore.state.encoding import eid_text
from streamcore.state.merge import row_expiry, storable_ttl
from streamcore.state.record import EntityRecord, Row
from streamcore.state.schema import INDEX_BUCKETS, index_bucket, keyspace_ddl, table_ddl
from streamcore.state.values import StoredValues

EntityKey = tuple[str, str]


def create_schema(session: Session, keyspace: str, replication_factor: int = 1) -> None:
    """Idempotent: keyspace and tables are created only when missing."""
    session.execute(keyspace_ddl(keyspace, replication_factor), timeout=60)
    for ddl in table_ddl(keyspace):
        session.execute(ddl, timeout=60)


class CassandraStore:
    def __init__(
        self,
        session: Session,
        keyspace: str,
        model: ModelSpec,
        consistency: int = ConsistencyLevel.LOCAL_QUORUM,
    ) -> None:
        self._session = session
        self._keyspace = keyspace
        self._metadata = session.cluster.metadata
        self._model = model
        self._values = StoredValues(model)
        self._consistency = consistency
        ks = keyspace
        self._select = self._prepare(
            f"SELECT attr, key, v, t1, t2, c, src, created, created_by, ttl_tokens "
            f"FROM {ks}.entity_state WHERE etype = ? AND eid = ?"
        )
        self._upsert = self._prepare(
            f"INSERT INTO {ks}.entity_state (etype, eid, attr, key, v, t1, t2, c, src) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?"
        )
        self._delete_row = self._prepare(
            f"DELETE FROM {ks}.entity_state WHERE etype = ? AND eid = ? AND attr = ? AND key = ?"
        )
        self._meta = self._prepare(
            f"UPDATE {ks}.entity_state SET created = ?, created_by = ?, ttl_tokens = ? "
            "WHERE etype = ? AND eid = ?"
        )
        self._index = self._prepare(
            f"INSERT INTO {ks}.entity_index (etype, bucket, eid, created) VALUES (?, ?, ?, ?)"
        )
        self._drop_entity = self._prepare(
            f"DELETE FROM {ks}.entity_state WHERE etype = ? AND eid = ?"
        )
        self._list_index = self._prepare(
            f"SELECT eid FROM {ks}.entity_index WHERE etype = ? AND bucket = ?"
        )
        self._drop_index = self._prepare(
            f"DELETE FROM {ks}.entity_index WHERE etype = ? AND bucket = ? AND eid = ?"
        )

    def _prepare(self, cql: str) -> PreparedStatement:
        statement = self._session.prepare(cql)
        statement.consistency_level = self._consistency
        return statement

    # Reading ---------------------------------------------------------------------------

    def load(self, keys: Sequence[tuple[str, Any]]) -> list[EntityRecord]:
        """The records of ``keys`` (etype, canonical eid), read in parallel."""
        texts = [eid_text(eid) for _, eid in keys]
        futures = [
            self._session.execute_async(self._select, (etype, text))
            for (etype, _), text in zip(keys, texts, strict=True)
        ]
        records = []
        for (etype, eid), text, future in zip(keys, texts, futures, strict=True):
            try:
                rows = _all_rows(future)
            except Exception as exc:
                raise StateError(f"reading {etype} {text} failed: {exc}") from exc
            records.append(self._record(etype, eid, text, rows))
        return records

    def _record(self, etype: str, eid: Any, text: str, rows: Iterable[Any]) -> EntityRecord:
        record = EntityRecord(etype, eid, text)
        for row in rows:
            if not record.exists:
                record.exists = record.indexed = row.created is not None
                record.created = _aware(row.created)
                record.created_by = row.created_by
                record.ttl_tokens = {k: stored_time(v) for k, v in (row.ttl_tokens or {}).items()}
            if row.attr is None or not self._values.knows(etype, row.attr):
                continue  # a static-only row, or an attribute the model no longer has
            record.attrs.setdefault(row.attr, {})[row.key] = Row(
                self._values.read(etype, row.attr, row.v),
                row.v,
                t1=_aware(row.t1),
                t2=_aware(row.t2),
                c=row.c,
                src=row.src,
            )
        return record

    def eids(self, etype: str) -> list[Any]:
        """Every stored entity id of ``etype`` (canonical), bucket by bucket."""
        futures = [
            self._session.execute_async(self._list_index, (etype, bucket))
            for bucket in range(INDEX_BUCKETS)
        ]
        return [self._values.eid(etype, row.eid) for future in futures for row in _all_rows(future)]

    def bucket_eids(self, etype: str, buckets: Iterable[int]) -> list[tuple[str, Any]]:
        """(stored id text, canonical eid) of the ``etype`` entities in index ``buckets``;
        a slice of a whole-type scan (periodic updater, garbage collector)."""
        futures = [
            self._session.execute_async(self._list_index, (etype, bucket)) for bucket in buckets
        ]
        return [
            (row.eid, self._values.eid(etype, row.eid))
            for future in futures
            for row in _all_rows(future)
        ]

    # Writing ---------------------------------------------------------------------------

    def write(self, records: Iterable[EntityRecord], now: datetime | None = None) -> int:
        """Persist every change of ``records``; returns the number of rows written.

        Rows are packed into unlogged batches per replica (token-aware), an entity's rows
        always together in one batch, so a batch costs one request and one partition's
        changes apply atomically. Returns after every batch is acknowledged.

        Batches are sent together once all are bound: sending each as it fills was measured
        slower (bench/ingest.py), the driver's I/O thread then contends for the GIL.
        """
        now = now or datetime.now(UTC)
        records = list(records)
        packer = BatchPacker(self._consistency)
        upserts = RowBinder(self._upsert, _UPSERT_REPEATS)
        for record in records:
            rows = self._entity_rows(record, now, upserts)
            if rows:
                packer.add(self._replica(rows[0][0]), rows)
            if record.dirty_meta and record.exists and not record.indexed:
                eid = record.eid_key
                index = self._index.bind((record.etype, index_bucket(eid), eid, record.created))
                packer.add(self._replica(index), [(index, 64)])
        futures = [self._session.execute_async(batch) for batch in packer.batches()]
        for future in futures:
            try:
                future.result()
            except Exception as exc:
                raise StateError(f"writing entity state failed: {exc}") from exc
        for record in records:
            record.indexed = record.indexed or (record.dirty_meta and record.exists)
            record.mark_clean()
        return packer.rows

    def _replica(self, statement: Any) -> Any:
        replicas = self._metadata.get_replicas(self._keyspace, statement.routing_key)
        return replicas[0] if replicas else None

    def _entity_rows(
        self, record: EntityRecord, now: datetime, upserts: RowBinder
    ) -> list[tuple[Any, int]]:
        """Bound statements of the entity's partition, each with its approximate size."""
        if not (record.dirty_rows or record.dirty_meta or record.deleted):
            return []
        etype, eid = record.etype, record.eid_key
        if record.deleted:
            # Synchronously, so a re-creation in the same batch gets a later timestamp.
            self._session.execute(self._drop_entity, (etype, eid))
            self._session.execute(self._drop_index, (etype, index_bucket(eid), eid))
        rows: list[tuple[Any, int]] = []
        if record.dirty_meta:
            meta = (record.created, record.created_by, record.ttl_tokens, etype, eid)
            rows.append((self._meta.bind(meta), 64 + 48 * len(record.ttl_tokens)))
        attrs = self._model.entity_attributes[etype]
        for attr, key in record.dirty_rows:
            row = record.attrs.get(attr, {}).get(key)
            if row is None:
                rows.append((self._delete_row.bind((etype, eid, attr, key)), 64))
                continue
            ttl = storable_ttl(row_expiry(attrs.get(attr), row), now)
            if ttl is not None and ttl <= 0:
                # Past its max_age: validation refuses such data-points (as expired), so
                # only one that expired between validation and this write gets here.
                continue
            values = (etype, eid, attr, key, row.v_json, row.t1, row.t2, row.c, row.src, ttl or 0)
            rows.append((upserts.bind(values), 96 + len(row.v_json)))
        return rows


# Upsert columns whose values repeat across the rows of a write (type, id, attribute,
# times, source): serialized once per write.
_UPSERT_REPEATS = (True, True, True, False, False, True, True, False, True, False)


def _all_rows(future: ResponseFuture) -> list[Any]:
    result = future.result()
    rows = list(result.current_rows)
    while result.has_more_pages:
        result.fetch_next_page()
        rows.extend(result.current_rows)
    return rows


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else stored_time(value)


def stored_time(value: datetime) -> datetime:
    """A stored timestamp as written: UTC, whole milliseconds. The driver reads through a
    float of seconds, which is microseconds off past year ~2240 (a replayed data-point
    would then not match its own row)."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    micros = value.microsecond % 1000
    if micros == 0:
        return value
    return value + timedelta(microseconds=1000 - micros if micros >= 500 else -micros)
