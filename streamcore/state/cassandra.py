"""Entity state in Cassandra: load whole records, write back what changed.

Writes of one entity go in one unlogged single-partition batch (atomic and isolated for
that partition in Cassandra), all entities of a worker batch in parallel; ``write``
returns only when every batch is acknowledged, which is what "durable" means for the
commit order in the worker.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cassandra import ConsistencyLevel
from cassandra.cluster import ResponseFuture, Session
from cassandra.query import PreparedStatement

from streamcore.errors import PermanentStateError, StateError, TransientStateError
from streamcore.model.modelspec import ModelSpec
from streamcore.state.batches import BatchPacker
from streamcore.state.binding import RowBinder
from streamcore.state.encoding import eid_text
from streamcore.state.faults import classified
from streamcore.state.links import LinkAttrs
from streamcore.state.merge import row_expiry, storable_ttl
from streamcore.state.record import EntityRecord, QuarantinedRow, Row
from streamcore.state.schema import INDEX_BUCKETS, index_bucket, keyspace_ddl, table_ddl
from streamcore.state.session import ROWS_PROFILE
from streamcore.state.values import StoredValues

EntityKey = tuple[str, str]


def create_schema(
    session: Session, keyspace: str, replication_factor: int = 1, datacenter: str | None = None
) -> None:
    """Idempotent: keyspace and tables are created only when missing (``keyspace_ddl``).

    Each statement waits until every node agrees on the schema: the next one, or a role
    starting right after setup, may be coordinated by another node of the ring.
    """
    for ddl in (keyspace_ddl(keyspace, replication_factor, datacenter), *table_ddl(keyspace)):
        result = session.execute(ddl, timeout=60)
        if result.response_future.is_schema_agreed:
            continue
        if not session.cluster.control_connection.wait_for_schema_agreement(wait_time=60):
            raise TransientStateError(
                f"the Cassandra nodes did not agree on the schema within 60 s after: {ddl}"
            )


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
        self._links = LinkAttrs(model)
        self._consistency = consistency
        ks = keyspace
        self._select = self._prepare(
            f"SELECT attr, key, v, t1, t2, c, src, created, created_by, ttl_tokens "
            f"FROM {ks}.entity_state WHERE etype = ? AND eid = ?"
        )
        # Every write carries its timestamp (``EntityRecord.stamp``): see ``write``.
        self._upsert = self._prepare(
            f"INSERT INTO {ks}.entity_state (etype, eid, attr, key, v, t1, t2, c, src) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?"
        )
        self._delete_row = self._prepare(
            f"DELETE FROM {ks}.entity_state USING TIMESTAMP ? "
            "WHERE etype = ? AND eid = ? AND attr = ? AND key = ?"
        )
        self._meta = self._prepare(
            f"UPDATE {ks}.entity_state USING TIMESTAMP ? "
            "SET created = ?, created_by = ?, ttl_tokens = ? WHERE etype = ? AND eid = ?"
        )
        self._index = self._prepare(
            f"INSERT INTO {ks}.entity_index (etype, bucket, eid, created) VALUES (?, ?, ?, ?) "
            "USING TIMESTAMP ?"
        )
        self._drop_entity = self._prepare(
            f"DELETE FROM {ks}.entity_state USING TIMESTAMP ? WHERE etype = ? AND eid = ?"
        )
        self._list_index = self._prepare(
            f"SELECT eid FROM {ks}.entity_index WHERE etype = ? AND bucket = ?"
        )
        self._link = self._prepare(
            f"INSERT INTO {ks}.entity_links_to (to_etype, to_eid, from_etype, from_attr, "
            "from_eid) VALUES (?, ?, ?, ?, ?) USING TTL ?"
        )
        self._unlink = self._prepare(
            f"DELETE FROM {ks}.entity_links_to WHERE to_etype = ? AND to_eid = ? "
            "AND from_etype = ? AND from_attr = ? AND from_eid = ?"
        )
        self._drop_links_to = self._prepare(
            f"DELETE FROM {ks}.entity_links_to WHERE to_etype = ? AND to_eid = ?"
        )
        self._select_links_to = self._prepare(
            f"SELECT from_etype, from_attr, from_eid FROM {ks}.entity_links_to "
            "WHERE to_etype = ? AND to_eid = ?"
        )
        self._drop_snapshots = self._prepare(
            f"DELETE FROM {ks}.snapshots WHERE etype = ? AND eid = ?"
        )
        self._drop_index = self._prepare(
            f"DELETE FROM {ks}.entity_index USING TIMESTAMP ? "
            "WHERE etype = ? AND bucket = ? AND eid = ?"
        )

    def _prepare(self, cql: str) -> PreparedStatement:
        statement = self._session.prepare(cql)
        statement.consistency_level = self._consistency
        return statement

    # Reading ---------------------------------------------------------------------------

    def load(self, keys: Sequence[tuple[str, Any]]) -> list[EntityRecord]:
        """The records of ``keys`` (etype, canonical eid), read in parallel.

        Raises ``TransientStateError`` / ``PermanentStateError`` (``state/faults.py``). A
        stored row that can't be parsed doesn't fail the load: it is left out of the
        record and listed in ``record.quarantined`` (the worker reports and removes it).
        """
        texts = [eid_text(eid) for _, eid in keys]
        futures = [
            self._session.execute_async(self._select, (etype, text), execution_profile=ROWS_PROFILE)
            for (etype, _), text in zip(keys, texts, strict=True)
        ]
        records = []
        for (etype, eid), text, future in zip(keys, texts, futures, strict=True):
            try:
                rows = _all_rows(future)
            except Exception as exc:
                raise classified(exc, f"reading {etype} {text}") from exc
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
            try:
                value = self._values.read(etype, row.attr, row.v)
            except Exception as exc:  # any stored text that doesn't parse: quarantined
                record.quarantined.append(QuarantinedRow(row.attr, row.key, row.v, repr(exc)))
                record.dirty_rows.add((row.attr, row.key))  # the next write removes it
                continue
            record.attrs.setdefault(row.attr, {})[row.key] = Row(
                value,
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

        Every statement carries the record's ``stamp`` as its write timestamp (a delete of
        the whole entity ``stamp - 1``, so a re-creation in the same batch outlives it):
        Cassandra keeps the newest timestamp per cell, so a write from a worker that lost
        its partition, stamped from its older fence, never replaces its successor's.

        Errors: ``TransientStateError`` when any batch failed for a reason worth retrying;
        otherwise ``PermanentStateError`` naming the entities whose writes were refused
        (each then written alone to find them); the other entities are written.

        Batches are sent together once all are bound: sending each as it fills was measured
        slower (bench/ingest.py), the driver's I/O thread then contends for the GIL.
        """
        now = now or datetime.now(UTC)
        records = list(records)
        default_stamp = int(time.time() * 1_000_000)  # unfenced writers: now
        packer = BatchPacker(self._consistency)
        upserts = RowBinder(self._upsert, _UPSERT_REPEATS)
        failure: StateError | None
        try:
            for record in records:
                self._pack(packer, record, now, record.stamp or default_stamp, upserts)
        except Exception as exc:  # a value the driver can't bind: find whose
            failure = classified(exc, "binding entity state")
        else:
            failure = self._send(packer)
        if isinstance(failure, TransientStateError):
            raise failure
        if failure is not None:
            refused = self._write_alone(records, now, default_stamp)
            if not refused:
                raise failure
            raise PermanentStateError(f"writing entity state refused: {failure}", refused)
        for record in records:
            record.indexed = record.indexed or (record.dirty_meta and record.exists)
            record.mark_clean()
        return packer.rows

    def _pack(
        self, packer: BatchPacker, record: EntityRecord, now: datetime, stamp: int, upserts: Any
    ) -> None:
        rows = self._entity_rows(record, now, upserts, stamp)
        if rows:
            packer.add(self._replica(rows[0][0]), rows)
        eid = record.eid_key
        if record.deleted:
            drop = self._drop_index.bind((stamp - 1, record.etype, index_bucket(eid), eid))
            packer.add(self._replica(drop), [(drop, 64)])
        for statement in self._link_rows(record, now):
            packer.add(self._replica(statement), [(statement, 96)])
        if record.dirty_meta and record.exists and not record.indexed:
            index = self._index.bind((record.etype, index_bucket(eid), eid, record.created, stamp))
            packer.add(self._replica(index), [(index, 64)])

    def _link_rows(self, record: EntityRecord, now: datetime) -> list[Any]:
        """The link index's changes for ``record`` (``links.py``): on delete, its partition
        and snapshots dropped; links it no longer has (``dropped_links``) removed; every
        link of a changed link attribute written again (extending an observation link's
        expiry)."""
        etype, eid = record.etype, record.eid_key
        statements = []
        changed = {attr for attr, _ in record.dirty_rows} & self._links.of.get(etype, {}).keys()
        current = self._links.targets(record, changed) if changed else {}
        if record.deleted:
            statements.append(self._drop_links_to.bind((etype, eid)))
            statements.append(self._drop_snapshots.bind((etype, eid)))
        for attr, target, target_eid in record.dropped_links:
            if (attr, target, target_eid) not in current:
                statements.append(self._unlink.bind((target, target_eid, etype, attr, eid)))
        for (attr, target, target_eid), lapses in current.items():
            ttl = storable_ttl(lapses, now)
            if ttl is not None and ttl <= 0:
                continue
            statements.append(self._link.bind((target, target_eid, etype, attr, eid, ttl or 0)))
        return statements

    def links_to(self, etype: str, eid_key: str) -> list[tuple[str, str, Any]]:
        """(linking type, link attribute, linking entity's stored id) of every live link
        to the entity (``processor.LinkIndex``)."""
        try:
            rows = _all_rows(self._session.execute_async(self._select_links_to, (etype, eid_key)))
        except Exception as exc:
            raise classified(exc, "reading the link index") from exc
        return [(row.from_etype, row.from_attr, row.from_eid) for row in rows]

    def _send(self, packer: BatchPacker) -> StateError | None:
        """Send every batch; the first transient failure, else the first permanent one."""
        futures = [self._session.execute_async(batch) for batch in packer.batches()]
        failures: list[StateError] = []
        for future in futures:
            try:
                future.result()
            except Exception as exc:
                failures.append(classified(exc, "writing entity state"))
        transient = [f for f in failures if isinstance(f, TransientStateError)]
        return (transient or failures or [None])[0]

    def _write_alone(
        self, records: list[EntityRecord], now: datetime, default_stamp: int
    ) -> dict[tuple[str, str], str]:
        """Each record in its own batches (the slow path after a refusal): the refused
        ones by (etype, stored id) with the reason; a transient failure raises."""
        refused: dict[tuple[str, str], str] = {}
        for record in records:
            packer = BatchPacker(self._consistency)
            try:
                self._pack(
                    packer,
                    record,
                    now,
                    record.stamp or default_stamp,
                    RowBinder(self._upsert, _UPSERT_REPEATS),
                )
            except Exception as exc:
                refused[(record.etype, record.eid_key)] = repr(exc)
                continue
            failure = self._send(packer)
            if isinstance(failure, TransientStateError):
                raise failure
            if failure is not None:
                refused[(record.etype, record.eid_key)] = str(failure)
        return refused

    def _replica(self, statement: Any) -> Any:
        replicas = self._metadata.get_replicas(self._keyspace, statement.routing_key)
        return replicas[0] if replicas else None

    def _entity_rows(
        self, record: EntityRecord, now: datetime, upserts: RowBinder, stamp: int
    ) -> list[tuple[Any, int]]:
        """Bound statements of the entity's partition, each with its approximate size."""
        if not (record.dirty_rows or record.dirty_meta or record.deleted):
            return []
        etype, eid = record.etype, record.eid_key
        rows: list[tuple[Any, int]] = []
        if record.deleted:
            rows.append((self._drop_entity.bind((stamp - 1, etype, eid)), 64))
        if record.dirty_meta:
            meta = (stamp, record.created, record.created_by, record.ttl_tokens, etype, eid)
            rows.append((self._meta.bind(meta), 64 + 48 * len(record.ttl_tokens)))
        attrs = self._model.entity_attributes[etype]
        for attr, key in record.dirty_rows:
            row = record.attrs.get(attr, {}).get(key)
            if row is None:
                rows.append((self._delete_row.bind((stamp, etype, eid, attr, key)), 64))
                continue
            ttl = storable_ttl(row_expiry(attrs.get(attr), row), now)
            if ttl is not None and ttl <= 0:
                # Past its max_age: validation refuses such data-points (as expired), so
                # only one that expired between validation and this write gets here.
                continue
            cells = (row.v_json, row.t1, row.t2, row.c, row.src, ttl or 0, stamp)
            rows.append((upserts.bind((etype, eid, attr, key, *cells)), 96 + len(row.v_json)))
        return rows


# Upsert columns whose values repeat across the rows of a write (type, id, attribute,
# times, source): serialized once per write.
_UPSERT_REPEATS = (True, True, True, False, False, True, True, False, True, False, False)


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
