"""The Cassandra tables, designed for the worker's access pattern.

``entity_state``: one partition per entity (``(etype, eid)``), so loading a whole master
record is one partition read. Rows are clustered by attribute and a content-derived key
(see ``merge.py``); entity metadata (creation, TTL tokens) lives in static columns.
Observation and timeseries rows carry a Cassandra TTL when their attribute has ``max_age``,
so history retention costs no sweep.

``entity_index``: every entity of a type, spread over ``INDEX_BUCKETS`` partitions, for
whole-type scans (snapshots, periodic updaters) without a full-table scan.

``entity_links_to``: who links to each entity (DP³'s link cache, ``links.py``): one
partition per linked-to entity, a row per linking entity and attribute; an observation
link's row expires at ``t2 + post_validity`` of its latest row, as DP³'s cache entry does.

``partition_fence``: the current fence of each input partition (``fence.py``).

``app_owner``: the application that owns the keyspace (one row, written by ``streamcore
setup`` with a lightweight transaction), so a second application never silently shares it.

``app_model``: the entity model the stored data was written with (``model.changes``), stored
by ``setup``, so a changed model is compared with it before it is applied.

``claims``, ``updater_progress``, ``module_refreshes``: the scheduler's once-per-cluster
claims, the updater's progress and module refresh marks. Their stores create them when
missing, but ``setup`` creates them too: on a cluster, roles starting together and each
issuing ``CREATE TABLE`` raced (one prepared its statements on a node the table had not
reached yet and exited), and concurrent creation of one table is unsafe in Cassandra 5.0.
"""

from __future__ import annotations

import zlib

from streamcore.state.api_schema import API_TABLES
from streamcore.state.claims import CLAIMS_DDL
from streamcore.state.fence import FENCE_DDL
from streamcore.state.progress import PROGRESS_DDL
from streamcore.state.refreshes import REFRESHES_DDL
from streamcore.state.snapshot_schema import SNAPSHOT_TABLES

INDEX_BUCKETS = 64

TABLES = (
    """
    CREATE TABLE IF NOT EXISTS {ks}.entity_state (
        etype text,
        eid text,
        attr text,
        key blob,
        v text,
        t1 timestamp,
        t2 timestamp,
        c double,
        src text,
        created timestamp STATIC,
        created_by text STATIC,
        ttl_tokens map<text, timestamp> STATIC,
        PRIMARY KEY ((etype, eid), attr, key)
    ) WITH gc_grace_seconds = 86400
    """,
    """
    CREATE TABLE IF NOT EXISTS {ks}.entity_index (
        etype text,
        bucket int,
        eid text,
        created timestamp,
        PRIMARY KEY ((etype, bucket), eid)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS {ks}.entity_links_to (
        to_etype text,
        to_eid text,
        from_etype text,
        from_attr text,
        from_eid text,
        PRIMARY KEY ((to_etype, to_eid), from_etype, from_attr, from_eid)
    )
    """,
    FENCE_DDL,
    """
    CREATE TABLE IF NOT EXISTS {ks}.app_owner (
        key text PRIMARY KEY,
        app_name text,
        created timestamp
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS {ks}.app_model (
        key text PRIMARY KEY,
        model text,
        stored timestamp
    )
    """,
    *SNAPSHOT_TABLES,
    *API_TABLES,
    CLAIMS_DDL,
    PROGRESS_DDL,
    REFRESHES_DDL,
)


def keyspace_ddl(keyspace: str, replication_factor: int, datacenter: str | None = None) -> str:
    """SimpleStrategy, or NetworkTopologyStrategy with ``replication_factor`` replicas in
    ``datacenter`` when one is given (what a production cluster wants: it names the
    datacenter, so adding one later is an ALTER, and places replicas on distinct racks)."""
    if datacenter is None:
        replication = f"'class': 'SimpleStrategy', 'replication_factor': {replication_factor}"
    else:
        dc = datacenter.replace("'", "''")
        replication = f"'class': 'NetworkTopologyStrategy', '{dc}': {replication_factor}"
    return f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = {{{replication}}}"


def table_ddl(keyspace: str) -> list[str]:
    return [" ".join(table.split()).format(ks=keyspace) for table in TABLES]


def index_bucket(eid_key: str) -> int:
    """Stable across processes (not Python's salted ``hash``)."""
    return zlib.crc32(eid_key.encode()) % INDEX_BUCKETS
