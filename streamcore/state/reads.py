"""The reads the HTTP API makes, on the tables the worker and snapshot workers write.

- an entity's master record: its ``entity_state`` partition (``CassandraStore.load``);
- its snapshots in a time range: one slice of its ``snapshots`` partition;
- the latest snapshot of every entity of a type: ``latest_snapshots``, bucket by bucket,
  paged (the caller bounds how many it reads: listing, filtering, counting, distinct);
- counts from ``entity_index``; snapshot runs for telemetry;
- the API's own tables (``api_schema``): raw data-points and source validity.

Every driver error becomes ``TransientStateError``/``PermanentStateError``
(``state/faults.py``): the API answers 503 for the first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from cassandra import ConsistencyLevel
from cassandra.cluster import Session

from streamcore.model.datapoint import DataPoint
from streamcore.model.modelspec import ModelSpec
from streamcore.state.cassandra import CassandraStore
from streamcore.state.encoding import dumps, eid_text
from streamcore.state.faults import classified
from streamcore.state.record import EntityRecord
from streamcore.state.schema import INDEX_BUCKETS, index_bucket

LatestSnapshot = tuple[datetime, str, dict[str, Any]]
"""(snapshot time, stored entity id, snapshot values)."""


class EntityReads:
    def __init__(
        self, session: Session, keyspace: str, model: ModelSpec, timeout: float = 10.0
    ) -> None:
        self._session = session
        self._timeout = timeout
        self._store = CassandraStore(session, keyspace, model, ConsistencyLevel.LOCAL_ONE)
        ks = keyspace
        self._snapshots = self._prepare(
            f"SELECT time, v FROM {ks}.snapshots WHERE etype = ? AND eid = ? "
            "AND time >= ? AND time <= ?"
        )
        self._latest_one = self._prepare(
            f"SELECT time, v FROM {ks}.snapshots WHERE etype = ? AND eid = ? LIMIT 1"
        )
        self._latest_bucket = self._prepare(
            f"SELECT eid, time, v FROM {ks}.latest_snapshots WHERE etype = ? AND bucket = ?"
        )
        self._latest_equal = self._prepare(
            f"SELECT eid, time, v FROM {ks}.latest_snapshots WHERE etype = ? AND bucket = ? "
            "AND vals[?] = ?"
        )
        self._count_bucket = self._prepare(
            f"SELECT count(*) AS n FROM {ks}.entity_index WHERE etype = ? AND bucket = ?"
        )
        self._drop_snapshots = self._prepare(
            f"DELETE FROM {ks}.snapshots WHERE etype = ? AND eid = ?"
        )
        self._drop_latest = self._prepare(
            f"DELETE FROM {ks}.latest_snapshots WHERE etype = ? AND bucket = ? AND eid = ?"
        )
        self._runs = self._prepare(
            f"SELECT run, tasks, trigger, owner, created FROM {ks}.snapshot_runs"
        )
        self._run_done = self._prepare(
            f"SELECT count(*) AS n, sum(entities) AS entities FROM {ks}.snapshot_run_tasks "
            "WHERE run = ?"
        )
        self._ping = self._prepare("SELECT release_version FROM system.local")
        self._sources = self._prepare(f"SELECT src, t2 FROM {ks}.source_validity")
        self._note_source = self._prepare(
            f"INSERT INTO {ks}.source_validity (src, t2) VALUES (?, ?) USING TIMESTAMP ?"
        )
        self._raw_insert = self._prepare(
            f"INSERT INTO {ks}.raw_datapoints (etype, bucket, eid, arrived, attr, v, t1, t2, "
            "c, src) VALUES (?, ?, ?, now(), ?, ?, ?, ?, ?, ?) USING TTL ?"
        )
        self._raw_bucket = self._prepare(
            f"SELECT eid, arrived, attr, v, t1, t2, c, src FROM {ks}.raw_datapoints "
            "WHERE etype = ? AND bucket = ?"
        )
        self._raw_entity = self._prepare(
            f"SELECT eid, arrived, attr, v, t1, t2, c, src FROM {ks}.raw_datapoints "
            "WHERE etype = ? AND bucket = ? AND eid = ?"
        )

    def _prepare(self, cql: str) -> Any:
        try:
            statement = self._session.prepare(cql)
        except Exception as exc:
            raise classified(exc, "preparing API reads") from exc
        statement.consistency_level = ConsistencyLevel.LOCAL_ONE
        return statement

    def _execute(self, statement: Any, params: tuple[Any, ...], what: str) -> Any:
        try:
            return self._session.execute(statement, params, timeout=self._timeout)
        except Exception as exc:
            raise classified(exc, what) from exc

    def ping(self, timeout: float = 2.0) -> None:
        """Raises when no Cassandra node answers a trivial query within ``timeout``."""
        try:
            self._session.execute(self._ping, timeout=timeout)
        except Exception as exc:
            raise classified(exc, "pinging Cassandra") from exc

    def record(self, etype: str, eid: Any) -> EntityRecord:
        """The entity's record (``exists`` False when it has none)."""
        return self._store.load([(etype, eid)])[0]

    def snapshots(
        self, etype: str, eid: Any, t1: datetime | None, t2: datetime | None
    ) -> list[tuple[datetime, dict[str, Any]]]:
        """Snapshots taken from ``t1`` to ``t2`` (open ends: all), oldest first."""
        low = t1 or datetime(1970, 1, 1, tzinfo=UTC)
        high = t2 or datetime(9999, 12, 31, tzinfo=UTC)
        rows = self._execute(
            self._snapshots, (etype, eid_text(eid), low, high), f"reading snapshots of {etype}"
        )
        found = [(_utc(row.time), json.loads(row.v)) for row in rows]
        found.reverse()
        return found

    def latest_snapshot(self, etype: str, eid: Any) -> tuple[datetime, dict[str, Any]] | None:
        row = self._execute(
            self._latest_one, (etype, eid_text(eid)), f"reading a snapshot of {etype}"
        ).one()
        return None if row is None else (_utc(row.time), json.loads(row.v))

    def latest(
        self, etype: str, page: int = 1000, equal: tuple[str, str] | None = None
    ) -> Iterator[LatestSnapshot]:
        """Every entity's latest snapshot, bucket by bucket, fetched ``page`` rows at a time
        (lazily: a caller that stops early reads no further). With ``equal`` (attribute,
        JSON text of a string or integer), only the snapshots whose value is that, found
        through the storage-attached index on ``vals``."""
        for bucket in range(INDEX_BUCKETS):
            if equal is None:
                statement = self._latest_bucket.bind((etype, bucket))
            else:
                statement = self._latest_equal.bind((etype, bucket, *equal))
            statement.fetch_size = page
            result = self._execute(statement, (), f"listing {etype} snapshots")
            try:
                for row in result:
                    yield _utc(row.time), row.eid, json.loads(row.v)
            except Exception as exc:  # a later page failed
                raise classified(exc, f"listing {etype} snapshots") from exc

    def count_entities(self, etype: str) -> int:
        """Entities of ``etype`` with a master record (``entity_index``, 64 counts)."""
        futures = [
            self._session.execute_async(self._count_bucket, (etype, bucket))
            for bucket in range(INDEX_BUCKETS)
        ]
        total = 0
        for future in futures:
            try:
                total += int(future.result().one().n)
            except Exception as exc:
                raise classified(exc, f"counting {etype} entities") from exc
        return total

    def drop_snapshots(self, etype: str, eid: Any) -> None:
        """Remove an entity's snapshots and latest-snapshot row (``DELETE`` of an entity)."""
        text = eid_text(eid)
        self._execute(self._drop_snapshots, (etype, text), f"deleting {etype} snapshots")
        self._execute(
            self._drop_latest, (etype, index_bucket(text), text), f"deleting {etype} snapshots"
        )

    # Data-points accepted by the API ----------------------------------------------------

    def archive(self, data_points: Sequence[DataPoint], ttl_seconds: int) -> None:
        """Store accepted (validated) data-points as raw rows, and their sources' validity."""
        futures = []
        newest: dict[str, datetime] = {}
        for dp in data_points:
            assert dp.etype is not None
            text = eid_text(dp.eid)
            params = (
                dp.etype,
                index_bucket(text),
                text,
                dp.attr,
                dumps(dp.v),
                dp.t1,
                dp.t2,
                dp.c,
                dp.src,
                ttl_seconds,
            )
            futures.append(self._session.execute_async(self._raw_insert, params))
            if dp.src is not None:
                seen = dp.t2 or dp.t1 or datetime.now(UTC)
                if dp.src not in newest or newest[dp.src] < seen:
                    newest[dp.src] = seen
        for src, t2 in newest.items():
            micros = int(_utc(t2).timestamp() * 1_000_000)
            futures.append(self._session.execute_async(self._note_source, (src, t2, micros)))
        for future in futures:
            try:
                future.result()
            except Exception as exc:
                raise classified(exc, "archiving raw data-points") from exc

    def sources_validity(self) -> dict[str, datetime]:
        rows = self._execute(self._sources, (), "reading source validity")
        return {row.src: _utc(row.t2) for row in rows if row.t2 is not None}

    def raw(
        self,
        etype: str,
        eid: Any | None,
        *,
        attr: str | None,
        src: str | None,
        skip: int,
        limit: int,
        scan_limit: int,
    ) -> list[dict[str, Any]]:
        """Raw data-points of ``etype`` (of one entity: one partition slice), newest first
        within an entity, filtered by ``attr``/``src``, paged; reads ``scan_limit`` at most."""
        if eid is not None:
            text = eid_text(eid)
            sources = [self._raw_entity.bind((etype, index_bucket(text), text))]
        else:
            sources = [self._raw_bucket.bind((etype, b)) for b in range(INDEX_BUCKETS)]
        found: list[dict[str, Any]] = []
        seen = read = 0
        for statement in sources:
            statement.fetch_size = 1000
            for row in self._execute(statement, (), f"reading raw {etype} data-points"):
                read += 1
                if read > scan_limit:
                    return found
                if (attr is not None and row.attr != attr) or (src is not None and row.src != src):
                    continue
                seen += 1
                if seen <= skip:
                    continue
                found.append(
                    {
                        "type": etype,
                        "id": row.eid,
                        "attr": row.attr,
                        "v": json.loads(row.v),
                        "t1": _utc(row.t1).isoformat() if row.t1 else None,
                        "t2": _utc(row.t2).isoformat() if row.t2 else None,
                        "c": row.c,
                        "src": row.src,
                    }
                )
                if limit and len(found) >= limit:
                    return found
        return found

    def snapshot_runs(self) -> list[dict[str, Any]]:
        """Every recorded snapshot run with its progress (tasks finished, entities)."""
        runs = []
        for row in self._execute(self._runs, (), "reading snapshot runs"):
            done = self._execute(self._run_done, (row.run,), "reading snapshot runs").one()
            runs.append(
                {
                    "run": _utc(row.run),
                    "tasks": row.tasks,
                    "tasks_done": int(done.n),
                    "entities": int(done.entities or 0),
                    "trigger": row.trigger,
                    "owner": row.owner,
                    "created": _utc(row.created) if row.created else None,
                }
            )
        return runs


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
