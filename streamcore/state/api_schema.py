"""Tables the HTTP API writes beside the worker's (created by ``streamcore setup``).

``source_validity``: the newest ``t2`` of each data source. Each write carries ``t2`` as
its write timestamp, so Cassandra's last-write-wins keeps the newest ``t2`` whatever the
order of the writes: a max without a read.

``raw_datapoints``: the data-points the API accepted, as they arrived (DP³'s raw
collection, for troubleshooting): one partition per type and day of arrival, newest first,
each row a JSON array of data-points written together (one insert for up to a thousand
data-points, which is what keeps archiving cheap), with the retention of
``history_manager.yml`` ``datapoint_archivation.older_than`` as TTL. Reading by entity,
attribute or source filters the rows it reads (a bounded scan, newest first).
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
        day int,
        arrived timeuuid,
        v text,
        PRIMARY KEY ((etype, day), arrived)
    ) WITH CLUSTERING ORDER BY (arrived DESC)
    """,
)
