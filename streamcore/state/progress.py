"""Where each periodic update thread stands, so a restarted updater carries on.

One row per thread (``updater_progress``, created here when missing, like ``claims``). The
first replica to find no row creates it (``INSERT ... IF NOT EXISTS``: concurrent starts
agree on one round 0); afterwards only the
replica that claimed a slice writes the row, after the slice's tasks are delivered, so a
crash mid-slice repeats the slice rather than skipping it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cassandra import ConsistencyLevel
from cassandra.cluster import Session

from streamcore.updater.plan import Progress

PROGRESS_DDL = """
CREATE TABLE IF NOT EXISTS {ks}.updater_progress (
    thread text PRIMARY KEY,
    round int,
    iteration int,
    iterations int,
    started timestamp,
    processed bigint
)
"""


class ProgressStore:
    def __init__(self, session: Session, keyspace: str) -> None:
        self._session = session
        session.execute(" ".join(PROGRESS_DDL.split()).format(ks=keyspace), timeout=60)
        self._start = session.prepare(
            f"INSERT INTO {keyspace}.updater_progress "
            "(thread, round, iteration, iterations, started, processed) "
            "VALUES (?, 0, 0, ?, ?, 0) IF NOT EXISTS"
        )
        self._start.consistency_level = ConsistencyLevel.LOCAL_QUORUM
        self._start.serial_consistency_level = ConsistencyLevel.LOCAL_SERIAL
        self._select = session.prepare(
            f"SELECT round, iteration, iterations, started, processed "
            f"FROM {keyspace}.updater_progress WHERE thread = ?"
        )
        self._select.consistency_level = ConsistencyLevel.LOCAL_QUORUM
        self._update = session.prepare(
            f"UPDATE {keyspace}.updater_progress SET round = ?, iteration = ?, iterations = ?, "
            "started = ?, processed = ? WHERE thread = ?"
        )
        self._update.consistency_level = ConsistencyLevel.LOCAL_QUORUM

    def current(self, thread: str, iterations: int, now: datetime) -> Progress:
        """The thread's progress; a new thread starts at round 0, iteration 0."""
        row = self._session.execute(self._select, (thread,)).one()
        if row is None:
            self._session.execute(self._start, (thread, iterations, now))
            row = self._session.execute(self._select, (thread,)).one()
        started = row.started.replace(tzinfo=UTC) if row.started.tzinfo is None else row.started
        return Progress(row.round, row.iteration, row.iterations, started, row.processed or 0)

    def save(self, thread: str, progress: Progress) -> None:
        self._session.execute(
            self._update,
            (
                progress.round,
                progress.iteration,
                progress.iterations,
                progress.started,
                progress.processed,
                thread,
            ),
        )
