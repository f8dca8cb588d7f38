"""Opening a Cassandra session from settings; the only place a Cluster is built."""

from __future__ import annotations

import functools
import logging
import ssl
from collections import namedtuple
from collections.abc import Sequence
from typing import Any

from cassandra import ConsistencyLevel
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import (
    EXEC_PROFILE_DEFAULT,
    Cluster,
    ExecutionProfile,
    NoHostAvailable,
    Session,
)
from cassandra.policies import (
    DCAwareRoundRobinPolicy,
    ExponentialReconnectionPolicy,
    RetryPolicy,
    RoundRobinPolicy,
    TokenAwarePolicy,
    WhiteListRoundRobinPolicy,
)
from cassandra.query import (
    _clean_column_name,  # the driver's own column-name cleaning
    tuple_factory,
)

from streamcore.settings import CassandraSettings

ROWS_PROFILE = "streamcore.rows"
"""The execution profile of hot reads (``named_tuple_rows``); otherwise the default one."""
TUPLES_PROFILE = "streamcore.tuples"
"""The execution profile of bulk scans (the snapshot worker's): rows as the plain tuples
the driver parsed, read by position (no row object per row)."""


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
    """A session on the configured cluster; the caller owns ``session.cluster.shutdown()``.

    With ``username`` set, the password goes through the driver's ``PlainTextAuthProvider``
    (Cassandra's ``PasswordAuthenticator``), so it belongs on a TLS connection:
    ``ssl_enabled`` (or a CA file) gives the driver an ``ssl_context`` (``tls_context``).
    A refused password fails here, as ``NoHostAvailable`` naming ``AuthenticationFailed``.
    """
    cluster = Cluster(**cluster_options(settings, connect_timeout, request_timeout))
    try:
        return cluster.connect(keyspace)
    except Exception:
        cluster.shutdown()
        raise


def cluster_options(
    settings: CassandraSettings, connect_timeout: float, request_timeout: float
) -> dict[str, Any]:
    """The driver's ``Cluster`` arguments: this use's timeouts and streamcore's protocol
    version are defaults; the user's ``connect_timeout_seconds``, ``request_timeout_seconds``
    and ``protocol_version`` settings win over them."""
    auth = None
    if settings.username is not None:
        password = settings.password.get_secret_value() if settings.password else ""
        auth = PlainTextAuthProvider(username=settings.username, password=password)

    # Token-aware: a request goes to a replica of its partition (one hop less; a batch
    # ``CassandraStore`` packs per replica lands on it). With local_dc, only that
    # datacenter's nodes are used, so LOCAL_* levels mean what they say.
    def profile(**options: Any) -> ExecutionProfile:
        child = (
            DCAwareRoundRobinPolicy(settings.local_dc) if settings.local_dc else RoundRobinPolicy()
        )
        return ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(child),
            # The driver's own: retries a timed-out read once when enough replicas answered,
            # an unavailable once on the next node, never a timed-out write (our callers own
            # that, with backoff). Never a downgrading policy: it would turn QUORUM into ONE
            # exactly when nodes are lost, and a later QUORUM read could miss the write.
            retry_policy=RetryPolicy(),
            # Every statement names its level (README "Consistency levels"); these are for
            # the few that don't (DDL, the keyspace claim): majority, not the driver's
            # LOCAL_ONE.
            consistency_level=ConsistencyLevel.LOCAL_QUORUM,
            serial_consistency_level=ConsistencyLevel.LOCAL_SERIAL,
            request_timeout=settings.request_timeout_seconds or request_timeout,
            **options,
        )

    return {
        "contact_points": settings.contact_points,
        "port": settings.port,
        "auth_provider": auth,
        "execution_profiles": {
            EXEC_PROFILE_DEFAULT: profile(),
            ROWS_PROFILE: profile(row_factory=named_tuple_rows),
            TUPLES_PROFILE: profile(row_factory=tuple_factory),
        },
        "connect_timeout": settings.connect_timeout_seconds or connect_timeout,
        # The driver's default backs off to 10 minutes between attempts on a node that
        # went down: a restarted node would stay unused for minutes while workers wait.
        "reconnection_policy": ExponentialReconnectionPolicy(base_delay=1.0, max_delay=10.0),
        "ssl_context": tls_context(settings) if settings.ssl_enabled else None,
        # v4 by default: v5's checksummed framing is computed in Python by the driver, a
        # cost on every write; v4 gives everything we use.
        "protocol_version": settings.protocol_version or 4,
    }


def named_tuple_rows(colnames: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[Any]:
    """The driver's default ``named_tuple_factory``, with the row class made once per column
    list: the driver builds a new ``namedtuple`` class for every result (~100 µs, on its I/O
    thread), which was ~3% of a worker's samples (one result per entity read). Only in
    ``ROWS_PROFILE``: the driver reads lightweight-transaction results (the fences') only
    with its own factories."""
    make = _row_class(tuple(colnames))._make
    return [make(row) for row in rows]


@functools.lru_cache(maxsize=512)
def _row_class(colnames: tuple[str, ...]) -> Any:
    return namedtuple("Row", [_clean_column_name(c) for c in colnames], rename=True)  # noqa: PYI024


def tls_context(settings: CassandraSettings) -> ssl.SSLContext:
    """The client TLS context: the server's certificate must chain to ``ssl_ca_file`` (the
    system's CAs without one) and, unless ``ssl_check_hostname`` is off, name the contact
    point; ``ssl_certfile``/``ssl_keyfile`` add a client certificate (mutual TLS)."""
    context = ssl.create_default_context(cafile=settings.ssl_ca_file)
    context.check_hostname = settings.ssl_check_hostname
    if settings.ssl_certfile:
        password = settings.ssl_key_password
        context.load_cert_chain(
            settings.ssl_certfile,
            settings.ssl_keyfile,
            password.get_secret_value() if password else None,
        )
    return context


def cql_answers(
    settings: CassandraSettings,
    timeout: float = 2.0,
    pinned: bool = False,
    ring_peers: int | None = None,
) -> bool:
    """True when the node answers a CQL query (not merely accepts TCP).

    ``pinned``: the query must be answered by the contact points themselves, not by
    another node of their ring (how the dev cluster tells one node's readiness).
    ``ring_peers``: the node must also know that many peers, each owning tokens, and agree
    with every one of them on the schema version. A node answers CQL before its ring has
    formed: DDL it coordinates then sees a one-node datacenter and reaches no peer.
    """
    return cql_not_ready(settings, timeout, pinned, ring_peers) is None


def cql_not_ready(
    settings: CassandraSettings,
    timeout: float = 2.0,
    pinned: bool = False,
    ring_peers: int | None = None,
) -> str | None:
    """Why ``cql_answers`` is False (None when it is True): what a start-up timeout reports."""
    try:
        session = _probe_session(settings, timeout, pinned)
    except (NoHostAvailable, OSError) as exc:
        return f"no CQL connection: {exc}"
    try:
        local = session.execute("SELECT schema_version FROM system.local").one()
        if local is None:
            return "system.local is empty"
        if ring_peers is None:
            return None
        peers = list(session.execute("SELECT peer, tokens, schema_version FROM system.peers"))
        if len(peers) == ring_peers and all(
            peer.tokens and peer.schema_version == local.schema_version for peer in peers
        ):
            return None
        seen = ", ".join(
            f"{peer.peer} ({len(peer.tokens or ())} tokens, schema {peer.schema_version})"
            for peer in peers
        )
        return (
            f"schema {local.schema_version}; {len(peers)} of {ring_peers} peers known: "
            f"{seen or 'none'}"
        )
    except Exception as exc:
        return f"query failed: {type(exc).__name__}: {exc}"
    finally:
        session.cluster.shutdown()


def cql_schema_version(settings: CassandraSettings, timeout: float = 5.0) -> str | None:
    """The schema version the contact point itself holds (None: it does not answer), to
    tell which node of a disagreeing ring is the odd one: each node's ``system.peers``
    only repeats what gossip last said of the others."""
    try:
        session = _probe_session(settings, timeout, pinned=True)
    except (NoHostAvailable, OSError):
        return None
    try:
        local = session.execute("SELECT schema_version FROM system.local").one()
        return str(local.schema_version) if local is not None else None
    except Exception:
        return None
    finally:
        session.cluster.shutdown()


def _probe_session(settings: CassandraSettings, timeout: float, pinned: bool) -> Session:
    """A short-lived session for one probe, the driver's connection noise silenced
    (pinned: every query answered by the contact points themselves)."""
    driver_log = logging.getLogger("cassandra")
    level = driver_log.level
    driver_log.setLevel(logging.CRITICAL)
    try:
        options = cluster_options(settings, timeout, 30.0)
        if pinned:
            only = WhiteListRoundRobinPolicy(settings.contact_points)
            options["execution_profiles"] = {
                EXEC_PROFILE_DEFAULT: ExecutionProfile(load_balancing_policy=only)
            }
        cluster = Cluster(**options)
        try:
            return cluster.connect()
        except Exception:
            cluster.shutdown()
            raise
    finally:
        driver_log.setLevel(level)


def ensure_table(session: Session, keyspace: str, table: str, ddl: str) -> None:
    """Run ``ddl`` (a ``CREATE TABLE IF NOT EXISTS``) only when the driver's schema
    metadata lacks ``table``: ``setup`` normally created it, and on a cluster every role
    re-issuing DDL at start races (see ``streamcore.state.schema``)."""
    known = session.cluster.metadata.keyspaces.get(keyspace)
    if known is not None and table in known.tables:
        return
    session.execute(" ".join(ddl.split()).format(ks=keyspace), timeout=60)
