"""The suite's own ring healing (``conftest._heal_ring``) on the real cluster: it must
restart the node that is out of step, not the first node that reports the split."""

from __future__ import annotations

import uuid
import warnings

from conftest import _heal_ring

from streamcore.dev import DevServers
from streamcore.errors import DevServerError
from streamcore.state.session import open_session


def test_healing_restarts_the_node_out_of_step_and_only_it(healthy_cluster: DevServers) -> None:
    """A schema change made while cassandra-2 is down: cassandra-1 (first in line) and
    cassandra-3 now report the split too. Restarting cassandra-1 first would wait on a
    ring cassandra-2 still splits; the heal restarts cassandra-2 alone."""
    servers = healthy_cluster
    keyspace = f"heal_{uuid.uuid4().hex[:8]}"
    session = open_session(servers.cassandra_settings())
    try:
        assert servers.kill("cassandra-2")
        session.execute(
            f"CREATE KEYSPACE {keyspace} WITH replication = "
            "{'class': 'SimpleStrategy', 'replication_factor': 1}"
        )
        before = servers.schema_versions()
        assert before["cassandra-2"] is None
        assert before["cassandra-1"] == before["cassandra-3"] is not None
        assert servers.not_ready("cassandra-1") is not None  # it sees cassandra-2's old one
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            _heal_ring(servers, DevServerError("the ring did not agree"))
        healed = [str(w.message) for w in seen if str(w.message).startswith("healing ")]
        assert len(healed) == 1 and healed[0].startswith("healing cassandra-2 "), healed
        assert set(servers.schema_versions().values()) == {before["cassandra-1"]}
        assert all(servers.not_ready(name) is None for name in servers.names)
    finally:
        session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}")
        session.cluster.shutdown()
