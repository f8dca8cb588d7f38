"""The application's stored entity model (``app_model``): written by ``setup``, read by
``check-config --against`` and by the next ``setup`` to see what a model change needs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cassandra.cluster import NoHostAvailable, Session

from streamcore.errors import StateError
from streamcore.model.changes import ModelDocument
from streamcore.settings import Settings
from streamcore.state.session import open_session


def read_model(session: Session, keyspace: str, app_name: str) -> ModelDocument | None:
    """The model ``app_name`` stored; None if none was (a new keyspace, one set up before
    models were stored, or one another application owns: ``setup`` refuses that one)."""
    if keyspace.lower() not in session.cluster.metadata.keyspaces:
        return None
    tables = session.cluster.metadata.keyspaces[keyspace.lower()].tables
    if "app_model" not in tables:
        return None
    owner = session.execute(f"SELECT app_name FROM {keyspace}.app_owner WHERE key = 'owner'").one()
    if owner is None or owner.app_name != app_name:
        return None
    row = session.execute(f"SELECT model FROM {keyspace}.app_model WHERE key = 'current'").one()
    return None if row is None else json.loads(row.model)


def store_model(session: Session, keyspace: str, document: ModelDocument) -> None:
    """Record ``document`` as the model the application's data is written with."""
    session.execute(
        f"INSERT INTO {keyspace}.app_model (key, model, stored) VALUES ('current', %s, %s)",
        (json.dumps(document, sort_keys=True), datetime.now(UTC)),
    )


def stored_model_of(settings: Settings, app_name: str) -> ModelDocument | None:
    """The stored model of application ``app_name`` (its keyspace from the settings)."""
    cassandra = settings.for_app(app_name).cassandra
    try:
        session = open_session(cassandra)
    except NoHostAvailable as exc:
        raise StateError(f"Cassandra unreachable ({cassandra.contact_points}): {exc}") from exc
    try:
        return read_model(session, cassandra.keyspace, app_name)
    finally:
        session.cluster.shutdown()
