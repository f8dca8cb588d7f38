"""Module refreshes waiting for the next snapshot run, shared by every process.

``refresh_module_config`` is applied by every replica (worker, snapshot worker,
scheduler), but DP³'s ``refresh=self.refresh`` hooks re-run in the *next snapshot run*,
which the snapshot workers carry out, split into tasks. So the request is recorded here
(``record``: each replica that applies version ``v`` of a module raises ``requested`` to
``v``, idempotently), and the one replica that plans the next run takes the pending ones
(``take``: ``consumed`` raised to ``requested`` by an LWT, so two planners never both take
a request). The run's tasks carry the taken module names; every entity of the run is in
exactly one task, so each is refreshed once, and the run after it does not refresh.

A replica that restarts replays the latest config and records its version again: no
change, since ``requested`` already holds it.
"""

from __future__ import annotations

from cassandra import ConsistencyLevel
from cassandra.cluster import Session

from streamcore.state.session import ensure_table

REFRESHES_DDL = """
CREATE TABLE IF NOT EXISTS {ks}.module_refreshes (
    module text PRIMARY KEY,
    requested bigint,
    consumed bigint
)
"""


class RefreshRequests:
    def __init__(self, session: Session, keyspace: str) -> None:
        self._session = session
        ensure_table(session, keyspace, "module_refreshes", REFRESHES_DDL)
        table = f"{keyspace}.module_refreshes"
        self._insert = self._lwt(
            f"INSERT INTO {table} (module, requested, consumed) VALUES (?, ?, 0) IF NOT EXISTS"
        )
        self._raise = self._lwt(
            f"UPDATE {table} SET requested = ? WHERE module = ? IF requested < ?"
        )
        self._take = self._lwt(f"UPDATE {table} SET consumed = ? WHERE module = ? IF consumed = ?")
        self._select = session.prepare(f"SELECT module, requested, consumed FROM {table}")
        self._select.consistency_level = ConsistencyLevel.LOCAL_SERIAL

    def _lwt(self, cql: str) -> object:
        statement = self._session.prepare(cql)
        statement.consistency_level = ConsistencyLevel.LOCAL_QUORUM
        statement.serial_consistency_level = ConsistencyLevel.LOCAL_SERIAL
        return statement

    def record(self, module: str, version: int) -> None:
        """Ask the next snapshot run to refresh ``module`` (config ``version`` applied)."""
        if not self._session.execute(self._insert, (module, version)).was_applied:
            self._session.execute(self._raise, (version, module, version))

    def take(self) -> list[str]:
        """The modules to refresh in the run being planned; they are no longer pending."""
        taken = []
        for row in self._session.execute(self._select):
            if (
                row.requested > row.consumed
                and self._session.execute(
                    self._take, (row.requested, row.module, row.consumed)
                ).was_applied
            ):
                taken.append(row.module)
        return sorted(taken)

    def pending(self) -> dict[str, int]:
        """Module -> requested version, of the requests no run took yet (for tests, logs)."""
        return {
            row.module: row.requested
            for row in self._session.execute(self._select)
            if row.requested > row.consumed
        }
