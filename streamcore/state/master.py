"""An ``EntityRecord`` in DP³'s master-record shape, for hooks that ask for the raw record.

DP³ hands ``periodic_update_hook`` (and ``correlation_hook_with_master_record``) the stored
MongoDB document of the entity; ported modules index it the same way here::

    {
        "_id": eid,
        "#time_created": datetime,
        "#ttl": {"base": datetime, ...},                      # TTL-lifetime entities
        "hostname": {"v": "edge-01", "ts_last_update": datetime},      # plain
        "ip": [{"t1": ..., "t2": ..., "v": "192.0.2.10", "c": 0.93}],  # observations
        "traffic": [{"t1": ..., "t2": ..., "v": {"bytes": [...]}}],    # timeseries
    }

Observation and timeseries histories are sorted by ``t1``. Link values are dicts
(``{"eid": ...}``, plus ``"data"`` for links with data), as DP³ stores them; other values
are the canonical Python values. Keys starting with ``#`` are metadata: ``#hash`` is DP³'s
(``dp3.common.task.HASH`` of ``"<etype>:<eid>"``, the last 4 hex digits of its MD5; DP³
shards its collector and updater by it, modules may read it); DP³'s ``#min_t2s`` has no
meaning here and is left out. Pure: built from memory, no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from streamcore.model.datapoint import Link
from streamcore.model.modelspec import ModelSpec
from streamcore.model.spec import AttrSpecObservations, AttrSpecTimeseries
from streamcore.state.record import PLAIN_KEY, EntityRecord, Row

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def master_record(record: EntityRecord, model: ModelSpec) -> dict[str, Any]:
    """The DP³ master record of ``record`` (attributes the model no longer has left out)."""
    document: dict[str, Any] = {
        "_id": record.eid,
        "#hash": dp3_hash(f"{record.etype}:{record.eid_key}"),
    }
    if record.created is not None:
        document["#time_created"] = record.created
    if record.ttl_tokens:
        document["#ttl"] = dict(record.ttl_tokens)
    specs = model.entity_attributes[record.etype]
    for attr, rows in record.attrs.items():
        spec = specs.get(attr)
        if spec is None or not rows:
            continue
        if isinstance(spec, AttrSpecObservations):
            document[attr] = [
                {"t1": row.t1, "t2": row.t2, "v": _value(row.value), "c": _c(row.c)}
                for row in _by_time(rows.values())
            ]
        elif isinstance(spec, AttrSpecTimeseries):
            document[attr] = [
                {"t1": row.t1, "t2": row.t2, "v": _value(row.value)}
                for row in _by_time(rows.values())
            ]
        elif PLAIN_KEY in rows:
            row = rows[PLAIN_KEY]
            document[attr] = {"v": _value(row.value), "ts_last_update": row.t1}
    return document


def dp3_hash(key: str) -> int:
    """DP³'s ``HASH``: the last 4 hex digits of the key's MD5, as an int."""
    return int(hashlib.md5(key.encode("utf8")).hexdigest()[-4:], 16)  # noqa: S324 (DP³'s)


def _c(confidence: float | None) -> float:
    return 1.0 if confidence is None else confidence


def _by_time(rows: Iterable[Row]) -> list[Row]:
    return sorted(rows, key=lambda row: (row.t1 or _EPOCH, row.t2 or _EPOCH))


def _value(value: Any) -> Any:
    if isinstance(value, Link):
        return {"eid": value.eid} if value.data is None else {"eid": value.eid, "data": value.data}
    if isinstance(value, list | tuple | set | frozenset):
        return [_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _value(item) for key, item in value.items()}
    return value
