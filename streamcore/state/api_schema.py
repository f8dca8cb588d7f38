"""Tables the HTTP API writes beside the worker's (created by ``streamcore setup``).

``source_validity``: the newest ``t2`` of each data source. Each write carries ``t2`` as
its write timestamp, so Cassandra's last-write-wins keeps the newest ``t2`` whatever the
order of the writes: a max without a read.

``raw_datapoints``: the data-points the API accepted, as they arrived (DP³'s raw
collection, for troubleshooting), in ``INDEX_BUCKETS`` partitions per type, clustered by
entity and arrival, with the retention of ``history_manager.yml``
``datapoint_archivation.older_than`` as TTL.
"""

from __future__ import annotations

API_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS {ks}.source_validity (
        src text PRIMARY KEY,
        t2 timestamp
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS {ks}.raw_datapoints (
        etype text,
        bucket int,
        eid text,
        arrived timeuuid,
        attr text,
        v text,
        t1 timestamp,
        t2 timestamp,
        c double,
        src text,
        PRIMARY KEY ((etype, bucket), eid, arrived)
    ) WITH CLUSTERING ORDER BY (eid ASC, arrived DESC)
    """,
)
