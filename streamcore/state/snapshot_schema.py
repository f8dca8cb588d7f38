"""The snapshot tables, designed for the two reads the API needs and for retention.

``snapshots``: one partition per entity, rows clustered by snapshot time, newest first, so
"latest snapshot of an entity" is the first row of one partition (``LIMIT 1``) and
"snapshots of an entity between t1 and t2" is one contiguous slice of it. Every row is
written with a TTL (``history_manager.yml`` ``snapshot_cleaning.older_than``), so retention
costs no sweep; time-window compaction drops whole expired SSTables instead of compacting
tombstones.

``latest_snapshots``: the newest snapshot of every entity, spread over ``INDEX_BUCKETS``
partitions per type (as ``entity_index``), written with each snapshot (same TTL), so the
API lists and filters entities by reading one row per entity instead of one partition per
entity. An upsert per entity: the newest run wins by write time. ``vals`` holds the
snapshot's scalar values (string and integer, as JSON text) under a storage-attached index
on its entries, so an equality filter reads only the matching rows of each bucket.

``snapshot_runs``: one row per run (its slot time): how many tasks it was split into and
who triggered it. ``snapshot_run_tasks``: one row per finished task, so a run is done when
it has ``tasks`` rows (idempotent when a task is redone after a crash, unlike a counter).
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii
from typing import Any

import orjson

_string_json = encode_basestring_ascii
"""``json.dumps`` of a string (``ensure_ascii``), without the encoder around it."""

SNAPSHOT_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS {ks}.snapshots (
        etype text,
        eid text,
        time timestamp,
        v text,
        PRIMARY KEY ((etype, eid), time)
    ) WITH CLUSTERING ORDER BY (time DESC)
      AND compaction = {{'class': 'TimeWindowCompactionStrategy',
                        'compaction_window_unit': 'DAYS', 'compaction_window_size': 1}}
    """,
    """
    CREATE TABLE IF NOT EXISTS {ks}.latest_snapshots (
        etype text,
        bucket int,
        eid text,
        time timestamp,
        v text,
        vals map<text, text>,
        PRIMARY KEY ((etype, bucket), eid)
    )
    """,
    """
    CREATE CUSTOM INDEX IF NOT EXISTS latest_snapshots_vals ON {ks}.latest_snapshots
        (ENTRIES(vals)) USING 'StorageAttachedIndex'
    """,
    """
    CREATE TABLE IF NOT EXISTS {ks}.snapshot_runs (
        run timestamp PRIMARY KEY,
        tasks int,
        trigger text,
        owner text,
        created timestamp
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS {ks}.snapshot_run_tasks (
        run timestamp,
        task int,
        entities int,
        worker text,
        PRIMARY KEY (run, task)
    )
    """,
)


def indexed_values(text: str) -> dict[str, str]:
    """The ``vals`` of a snapshot's JSON: each string or integer value (not ``eid``) as
    ``json.dumps`` text, the form an equality filter's value is looked up in.

    Runs once per snapshot written, so the document is parsed by orjson, and each value
    written by what ``json.dumps`` itself calls for a string or an integer. orjson refuses
    NaN and reads an integer beyond 64 bits as a float: those documents go through the
    standard library's parser, as before.
    """
    try:
        found = _scalars(orjson.loads(text), exact=False)
    except (orjson.JSONDecodeError, _BigNumber):
        found = _scalars(json.loads(text), exact=True)
    found.pop("eid", None)
    return found


class _BigNumber(Exception):
    """A number orjson may have read from an integer beyond 64 bits."""


def _scalars(document: dict[str, Any], exact: bool) -> dict[str, str]:
    found = {}
    for key, value in document.items():
        kind = type(value)
        if kind is str:
            found[key] = _string_json(value)
        elif kind is int:
            found[key] = int.__repr__(value)
        elif kind is float and not exact and not _INT64_LOW <= value < _UINT64_END:
            raise _BigNumber
    return found


_INT64_LOW = -(2**63)
_UINT64_END = 2**64
