"""Once per cluster: the first process to claim a (job, slot) wins, everyone else skips.

A Cassandra lightweight transaction (``INSERT ... IF NOT EXISTS``, Paxos) decides, so any
number of replicas may try the same schedule slot and exactly one runs it, with no
in-process lock and no leader election. Claims expire (TTL) so the table stays small.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime

from cassandra import ConsistencyLevel
from cassandra.cluster import Session

from streamcore.state.session import ensure_table

CLAIMS_DDL = """
CREATE TABLE IF NOT EXISTS {ks}.claims (
    job text,
    slot text,
    owner text,
    claimed_at timestamp,
    PRIMARY KEY ((job, slot))
)
"""


class ClaimStore:
    def __init__(self, session: Session, keyspace: str, owner: str | None = None) -> None:
        self._session = session
        self.owner = owner or socket.gethostname()
        ensure_table(session, keyspace, "claims", CLAIMS_DDL)
        self._insert = session.prepare(
            f"INSERT INTO {keyspace}.claims (job, slot, owner, claimed_at) "
            "VALUES (?, ?, ?, ?) IF NOT EXISTS USING TTL ?"
        )
        self._insert.consistency_level = ConsistencyLevel.LOCAL_QUORUM
        self._insert.serial_consistency_level = ConsistencyLevel.LOCAL_SERIAL

    def claim(self, job: str, slot: str, keep_seconds: int = 7 * 86400) -> bool:
        """True for exactly one caller per ``(job, slot)`` across the cluster."""
        result = self._session.execute(
            self._insert, (job, slot, self.owner, datetime.now(UTC), keep_seconds)
        )
        return bool(result.was_applied)
