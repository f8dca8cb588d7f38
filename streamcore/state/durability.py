"""Whether Cassandra can lose a write it acknowledged, which the worker can't see.

The worker commits its input offsets once its state writes are acknowledged. Cassandra's
default commit log mode (``commitlog_sync: periodic``) acknowledges a write before its
commit log entry is synced, so a node killed then loses its last acknowledged writes (the
dev servers lost 48-108 of them on SIGKILL). A ``LOCAL_QUORUM`` write on two or more
replicas survives one node's crash; on a single replica it is simply gone, and so are the
readings whose offsets were committed on it. The worker says so when it starts.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

SETTING_QUERY = "SELECT value FROM system_views.settings WHERE name = 'commitlog_sync'"
REPLICATION_QUERY = "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = %s"


def replicas(replication: dict[str, str], local_dc: str | None) -> int:
    """A keyspace's replicas per write: SimpleStrategy's factor, or NetworkTopologyStrategy's
    in ``local_dc`` (unknown: the smallest of its datacenters')."""
    if "replication_factor" in replication:
        return int(replication["replication_factor"])
    factors = {dc: int(n) for dc, n in replication.items() if dc != "class" and n.isdigit()}
    if local_dc is not None and local_dc in factors:
        return factors[local_dc]
    return min(factors.values(), default=0)


def commit_log_risk(mode: str | None, keyspace: str, replica_count: int) -> str | None:
    """The warning to give, or None: only ``periodic`` with a single replica loses what
    the worker already committed offsets for."""
    if mode != "periodic" or replica_count >= 2:
        return None
    return (
        f"Cassandra acknowledges writes before syncing its commit log (commitlog_sync: "
        f"periodic) and keyspace {keyspace} keeps {replica_count} replica: a Cassandra crash "
        "can lose state whose input offsets are already committed. Give the keyspace 3 "
        "replicas, or run Cassandra with commitlog_sync: batch (or group)."
    )


def commit_log_mode(session: Any) -> str | None:
    """``commitlog_sync`` as the node the session reaches reports it (the setting is per
    node); None where the ``system_views`` tables are missing (before 4.0, or a managed
    service hiding them)."""
    try:
        row = session.execute(SETTING_QUERY).one()
    except Exception as exc:
        log.debug("commit log mode unknown: %s", exc)
        return None
    return None if row is None else str(row.value)


def check_commit_log(session: Any, keyspace: str, local_dc: str | None) -> str | None:
    """Warn on a risk. Best effort: a mode or replication that can't be read is not a
    reason to refuse to start."""
    mode = commit_log_mode(session)
    if mode is None:
        return None
    try:
        found = session.execute(REPLICATION_QUERY, (keyspace,)).one()
    except Exception as exc:
        log.debug("replication of %s unknown: %s", keyspace, exc)
        return None
    if found is None:
        return None
    risk = commit_log_risk(mode, keyspace, replicas(dict(found.replication), local_dc))
    if risk is not None:
        log.warning("%s", risk)
    return risk
