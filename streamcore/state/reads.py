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
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from cassandra import ConsistencyLevel, InvalidRequest
from cassandra.cluster import Session

from streamcore.model.datapoint import DataPoint
from streamcore.model.modelspec import ModelSpec
from streamcore.state.cassandra import CassandraStore
from streamcore.state.encoding import eid_text, jsonable
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
        self._keyspace = keyspace
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
            f"INSERT INTO {ks}.raw_datapoints (etype, day, arrived, v) "
            "VALUES (?, ?, now(), ?) USING TTL ?"
        )
        self._raw_day = self._prepare(
            f"SELECT v FROM {ks}.raw_datapoints WHERE etype = ? AND day = ?"
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
        return self.start_snapshots(etype, eid, t1, t2)()

    def start_snapshots(
        self, etype: str, eid: Any, t1: datetime | None, t2: datetime | None
    ) -> Callable[[], list[tuple[datetime, dict[str, Any]]]]:
        """``snapshots``, sent now and collected by the returned call (an entity read
        waits for its record and its snapshots at once, not one after the other)."""
        low = t1 or datetime(1970, 1, 1, tzinfo=UTC)
        high = t2 or datetime(9999, 12, 31, tzinfo=UTC)
        params = (etype, eid_text(eid), low, high)
        future = self._session.execute_async(self._snapshots, params, timeout=self._timeout)

        def collect() -> list[tuple[datetime, dict[str, Any]]]:
            try:
                rows = future.result()
                found = [(_utc(row.time), json.loads(row.v)) for row in rows]
            except Exception as exc:
                raise classified(exc, f"reading snapshots of {etype}") from exc
            found.reverse()
            return found

        return collect

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
        """Store accepted (validated) data-points as raw rows (a JSON array of up to
        ``RAW_ROW_BYTES`` per row, per type), and their sources' validity."""
        futures = []
        newest: dict[str, datetime] = {}
        rows: dict[str, list[str]] = {}
        for dp in data_points:
            assert dp.etype is not None
            rows.setdefault(dp.etype, []).append(_raw_json(dp))
            if dp.src is not None:
                seen = dp.t2 or dp.t1 or datetime.now(UTC)
                if dp.src not in newest or newest[dp.src] < seen:
                    newest[dp.src] = seen
        day = _day(datetime.now(UTC))
        for etype, items in rows.items():
            for text in _chunks(items, RAW_ROW_BYTES):
                params = (etype, day, text, ttl_seconds)
                futures.append(self._session.execute_async(self._raw_insert, params))
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
        days: int,
    ) -> list[dict[str, Any]]:
        """Raw data-points of ``etype``, newest first, filtered by entity, ``attr`` and
        ``src``, paged; reads the last ``days`` days' rows, ``scan_limit`` data-points at
        most."""
        text = None if eid is None else eid_text(eid)
        found: list[dict[str, Any]] = []
        seen = read = 0
        today = _day(datetime.now(UTC))
        for day in range(today, today - days - 1, -1):
            statement = self._raw_day.bind((etype, day))
            statement.fetch_size = 100
            for row in self._execute(statement, (), f"reading raw {etype} data-points"):
                for item in json.loads(row.v):
                    read += 1
                    if read > scan_limit:
                        return found
                    if (
                        (text is not None and item["id"] != text)
                        or (attr is not None and item["attr"] != attr)
                        or (src is not None and item["src"] != src)
                    ):
                        continue
                    seen += 1
                    if seen <= skip:
                        continue
                    found.append(item)
                    if limit and len(found) >= limit:
                        return found
        return found

    def updater_progress(self) -> list[dict[str, Any]]:
        """Each periodic update thread's position (``updater_progress``; none before the
        scheduler's first run created the table)."""
        cql = (
            "SELECT thread, round, iteration, iterations, started, processed "
            f"FROM {self._keyspace}.updater_progress"
        )
        try:
            rows = self._session.execute(cql, timeout=self._timeout)
        except InvalidRequest:  # "unconfigured table": no updater has run yet
            return []
        except Exception as exc:
            raise classified(exc, "reading updater progress") from exc
        return [
            {
                "thread": row.thread,
                "round": row.round,
                "iteration": row.iteration,
                "iterations": row.iterations,
                "started": _utc(row.started) if row.started else None,
                "processed": row.processed or 0,
            }
            for row in rows
        ]

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


RAW_ROW_BYTES = 256 * 1024
"""A raw row's JSON at most (more data-points go in further rows)."""


def _raw_json(dp: DataPoint) -> str:
    """One raw data-point in DP³'s API shape (``type``, ``id``; the id as stored)."""
    return orjson.dumps(  # times as isoformat() writes them
        {
            "type": dp.etype,
            "id": eid_text(dp.eid),
            "attr": dp.attr,
            "v": jsonable(dp.v),
            "t1": dp.t1,
            "t2": dp.t2,
            "c": dp.c,
            "src": dp.src,
        }
    ).decode()


def _chunks(items: list[str], most: int) -> Iterator[str]:
    """JSON arrays of ``items`` (JSON texts), each up to ``most`` bytes (or one item)."""
    chunk: list[str] = []
    size = 2
    for item in items:
        if chunk and size + len(item) + 1 > most:
            yield "[" + ",".join(chunk) + "]"
            chunk, size = [], 2
        chunk.append(item)
        size += len(item) + 1
    if chunk:
        yield "[" + ",".join(chunk) + "]"


def _day(moment: datetime) -> int:
    return int(moment.timestamp() // 86400)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
