"""Opening a Cassandra session from settings; the only place a Cluster is built."""

from __future__ import annotations

import logging

from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import (
    EXEC_PROFILE_DEFAULT,
    Cluster,
    ExecutionProfile,
    NoHostAvailable,
    Session,
)
from cassandra.policies import DCAwareRoundRobinPolicy, RoundRobinPolicy, TokenAwarePolicy

from streamcore.settings import CassandraSettings


class _PackedBatchWarnings(logging.Filter):
    """Drops the driver's echo of two server warnings our writes cause on purpose.

    ``CassandraStore.write`` packs several entities of one replica into an unlogged batch
    (bounded in rows and bytes); the server warns about every such request, which would
    flood the log of a busy worker. The server's own log still has them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (
            "Unlogged batch covering" in message or "exceeding specified threshold" in message
        )


logging.getLogger("cassandra.protocol").addFilter(_PackedBatchWarnings())


def open_session(
    settings: CassandraSettings,
    keyspace: str | None = None,
    connect_timeout: float = 5.0,
    request_timeout: float = 30.0,
) -> Session:
    """A session on the configured cluster; the caller owns ``session.cluster.shutdown()``."""
    auth = None
    if settings.username is not None:
        password = settings.password.get_secret_value() if settings.password else ""
        auth = PlainTextAuthProvider(username=settings.username, password=password)
    child = DCAwareRoundRobinPolicy(settings.local_dc) if settings.local_dc else RoundRobinPolicy()
    cluster = Cluster(
        contact_points=settings.contact_points,
        port=settings.port,
        auth_provider=auth,
        execution_profiles={
            EXEC_PROFILE_DEFAULT: ExecutionProfile(
                load_balancing_policy=TokenAwarePolicy(child), request_timeout=request_timeout
            )
        },
        connect_timeout=connect_timeout,
        # v4: v5's checksummed framing is computed in Python by the driver, a cost
        # on every write; v4 gives everything we use.
        protocol_version=4,
    )
    try:
        return cluster.connect(keyspace)
    except Exception:
        cluster.shutdown()
        raise


def cql_answers(settings: CassandraSettings, timeout: float = 2.0) -> bool:
    """True when the node answers a CQL query (not merely accepts TCP)."""
    driver_log = logging.getLogger("cassandra")
    level = driver_log.level
    driver_log.setLevel(logging.CRITICAL)
    try:
        session = open_session(settings, connect_timeout=timeout)
    except (NoHostAvailable, OSError):
        return False
    finally:
        driver_log.setLevel(level)
    try:
        return session.execute("SELECT release_version FROM system.local").one() is not None
    except Exception:
        return False
    finally:
        session.cluster.shutdown()
