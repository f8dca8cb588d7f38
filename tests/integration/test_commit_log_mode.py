"""The commit log check asks a real Cassandra: the dev servers' mode, a keyspace's replicas."""

from __future__ import annotations

from typing import Any

from streamcore.state.durability import (
    REPLICATION_QUERY,
    SETTING_QUERY,
    check_commit_log,
    commit_log_risk,
    replicas,
)


def test_the_dev_servers_acknowledge_only_synced_writes(
    cassandra_session: Any, keyspace: str
) -> None:
    mode = cassandra_session.execute(SETTING_QUERY).one().value
    assert mode == "batch"
    replication = dict(cassandra_session.execute(REPLICATION_QUERY, (keyspace,)).one().replication)
    assert replicas(replication, None) == 1
    assert check_commit_log(cassandra_session, keyspace, None) is None
    # What the same single-replica keyspace would get on Cassandra's default mode.
    assert commit_log_risk("periodic", keyspace, replicas(replication, None)) is not None
