"""``streamcore setup``'s Cassandra step: the keyspace and tables, created when missing."""

from __future__ import annotations

from streamcore.config import AppConfig
from streamcore.settings import Settings
from streamcore.state.cassandra import create_schema
from streamcore.state.session import open_session


def cassandra_setup_step(settings: Settings, app_name: str, config: AppConfig) -> list[str]:
    cassandra = settings.cassandra
    session = open_session(cassandra)
    try:
        existed = cassandra.keyspace in session.cluster.metadata.keyspaces
        create_schema(session, cassandra.keyspace, cassandra.replication_factor)
    finally:
        session.cluster.shutdown()
    state = "exists" if existed else "created"
    return [f"keyspace {cassandra.keyspace}: {state} (tables entity_state, entity_index ensured)"]
