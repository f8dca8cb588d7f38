"""Where each periodic update thread stands, so a restarted updater carries on.

One row per thread (``updater_progress``, created here when missing, like ``claims``). The
first replica to find no row creates it (``INSERT ... IF NOT EXISTS``: concurrent starts
agree on one round 0); afterwards only the
replica that claimed a slice writes the row, after the slice's tasks are delivered, so a
crash mid-slice repeats the slice rather than skipping it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from cassandra import ConsistencyLevel
from cassandra.cluster import Session

from streamcore.state.session import ensure_table


@dataclass(frozen=True)
class Progress:
    """Where an update thread stands: iteration ``iteration`` of period number ``round``."""

    round: int
    iteration: int
    iterations: int
    started: datetime
    processed: int = 0

    @property
    def slot(self) -> str:
        """Names this slice in a claim: one per (round, iteration), never reused."""
        return f"{self.round}:{self.iteration}"

    def fitted(self, iterations: int, now: datetime) -> Progress:
        """The same progress, or a fresh round if the slice count changed (config change)."""
        if iterations == self.iterations:
            return self
        return Progress(self.round + 1, 0, iterations, now)

    def advanced(self, visited: int, now: datetime) -> Progress:
        """After a slice of ``visited`` entities: the next iteration, or the next round."""
        if self.iteration + 1 < self.iterations:
            return replace(self, iteration=self.iteration + 1, processed=self.processed + visited)
        return Progress(self.round + 1, 0, self.iterations, now)


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
        ensure_table(session, keyspace, "updater_progress", PROGRESS_DDL)
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
