"""The physical limit of ``bench/snapshots.py``: what cassandra-driver alone does with the
same I/O as a snapshot run, one step after the other, in the same process and run.

* ``bare_scan``: the worker's scan query (every column of ``entity_state``, one token range
  per task, the tasks one after the other) paged as the worker pages it (2,000 rows, the
  next page requested before the current one is read, rows as plain tuples), each row
  touched; no record built, nothing else.
* ``bare_write``: the rows the worker just wrote (each entity's snapshot text and indexed
  ``vals``, read back from ``latest_snapshots`` before the clock starts), written as the
  worker wrote them, into the empty tables of another keyspace with the same schema (so the
  same first-run case: nothing to overwrite): per entity a ``snapshots`` row and a
  ``latest_snapshots`` row, pre-bound, in 64-row unlogged batches, a page's worth (2,000
  entities) in flight together. Overwriting the worker's own rows instead (a later run's
  case) was measured first: Cassandra's CPU per entity was about the same, and grew with the
  number written in both.

Both are timed on their own clock with the Cassandra server's CPU over them; the limit is
entities / (scan seconds + write seconds), as ``ingest_limit.py`` adds its consume and write.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Session
from cassandra.query import BatchStatement, BatchType, tuple_factory

from streamcore.state.batches import MAX_BATCH_ROWS
from streamcore.state.snapshots import token_range

PAGE = 2000


def measured(server_cpu: Callable[[], float], run: Callable[[], int]) -> dict[str, float]:
    """``run``'s seconds, what it counted, and the Cassandra server's CPU-seconds over it."""
    before, started = server_cpu(), time.perf_counter()
    count = run()
    return {
        "seconds": time.perf_counter() - started,
        "count": count,
        "cassandra_cpu": server_cpu() - before,
    }


def bare_scan(session: Session, keyspace: str, tasks: int) -> Callable[[], int]:
    statement = session.prepare(
        f"SELECT etype, eid, attr, key, v, t1, t2, c, src, created, created_by, ttl_tokens "
        f"FROM {keyspace}.entity_state WHERE token(etype, eid) > ? AND token(etype, eid) <= ?"
    )
    statement.consistency_level = ConsistencyLevel.LOCAL_QUORUM
    tuples = session.execution_profile_clone_update(EXEC_PROFILE_DEFAULT, row_factory=tuple_factory)

    def run() -> int:
        rows = 0
        for task in range(tasks):
            bound = statement.bind(token_range(task, tasks))
            bound.fetch_size = PAGE
            future = session.execute_async(bound, execution_profile=tuples, timeout=120)
            while future is not None:
                result = future.result()
                state = result.paging_state
                future = (
                    None
                    if state is None
                    else session.execute_async(
                        bound, paging_state=state, execution_profile=tuples, timeout=120
                    )
                )
                for row in result.current_rows:
                    rows += row[1] is not None
        return rows

    return run


def bare_write(session: Session, keyspace: str, into: str) -> Callable[[], int]:
    """The write of ``keyspace``'s latest snapshots into keyspace ``into`` (its schema
    created, its snapshot tables empty)."""
    written = list(
        session.execute(
            f"SELECT etype, bucket, eid, v, vals, TTL(v) FROM {keyspace}.latest_snapshots",
            timeout=120,
        )
    )
    insert = session.prepare(
        f"INSERT INTO {into}.snapshots (etype, eid, time, v) VALUES (?, ?, ?, ?) USING TTL ?"
    )
    latest = session.prepare(
        f"INSERT INTO {into}.latest_snapshots (etype, bucket, eid, time, v, vals) "
        "VALUES (?, ?, ?, ?, ?, ?) USING TTL ?"
    )
    when = datetime.now(UTC) + timedelta(seconds=1)
    pages: list[list[BatchStatement]] = []
    for first in range(0, len(written), PAGE):
        statements = []
        for etype, bucket, eid, v, vals, ttl in written[first : first + PAGE]:
            statements.append(insert.bind((etype, eid, when, v, ttl)))
            statements.append(latest.bind((etype, bucket, eid, when, v, vals or {}, ttl)))
        batches = []
        for start in range(0, len(statements), MAX_BATCH_ROWS):
            batch = BatchStatement(
                BatchType.UNLOGGED, consistency_level=ConsistencyLevel.LOCAL_QUORUM
            )
            for statement in statements[start : start + MAX_BATCH_ROWS]:
                batch.add(statement)
            batches.append(batch)
        pages.append(batches)

    def run() -> int:
        for batches in pages:
            for future in [session.execute_async(b, timeout=120) for b in batches]:
                future.result()
        return len(written)

    return run
