"""``streamcore setup``'s Cassandra step: the keyspace and tables, created when missing, and
the keyspace claimed for the application.

The claim is one row in ``app_owner`` written with ``IF NOT EXISTS`` (a lightweight
transaction), so of two applications set up on one keyspace exactly one owns it and the
other is refused with both names, instead of mixing their entities in one table.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cassandra.cluster import Session

from streamcore.config import AppConfig
from streamcore.errors import StreamcoreError
from streamcore.settings import Settings
from streamcore.state.cassandra import create_schema
from streamcore.state.session import open_session


class KeyspaceOwnedError(StreamcoreError):
    """The keyspace ``setup`` was pointed at belongs to another application."""


def cassandra_setup_step(settings: Settings, app_name: str, config: AppConfig) -> list[str]:
    cassandra = settings.for_app(app_name).cassandra
    keyspace = cassandra.keyspace
    session = open_session(cassandra)
    try:
        existed = keyspace.lower() in session.cluster.metadata.keyspaces
        create_schema(
            session, keyspace, cassandra.replication_factor, cassandra.keyspace_datacenter()
        )
        claimed = claim_keyspace(session, keyspace, app_name)
    finally:
        session.cluster.shutdown()
    state = "exists" if existed else "created"
    owner = f"owned by {app_name!r}" + (", claimed now" if claimed and existed else "")
    return [f"keyspace {keyspace}: {state}, {owner} (tables entity_state, entity_index ensured)"]


def claim_keyspace(session: Session, keyspace: str, app_name: str) -> bool:
    """Record ``app_name`` as the keyspace's owner; True if it was unowned until now.

    Raises ``KeyspaceOwnedError`` when another application owns it.
    """
    result = session.execute(
        f"INSERT INTO {keyspace}.app_owner (key, app_name, created) VALUES ('owner', %s, %s) "
        "IF NOT EXISTS",
        (app_name, datetime.now(UTC)),
    )
    if result.was_applied:
        return True
    row = result.one()
    if row.app_name != app_name:
        raise KeyspaceOwnedError(
            f"keyspace {keyspace} belongs to application {row.app_name!r}, not {app_name!r}: "
            f"use --app-name {row.app_name} for that application, or give {app_name!r} its own "
            "keyspace (unset STREAMCORE_CASSANDRA__KEYSPACE to derive it from the app name)"
        )
    return False
