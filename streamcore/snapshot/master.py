"""The stored master record in DP³'s document shape, for hooks that ask for it.

``register_correlation_hook_with_master_record`` hooks receive the raw stored record as
DP³ documents it (``{entity}#master``): ``{"_id": eid, "#time_created": ..., plain:
{"v": value, "ts_last_update": ...}, observations/timeseries: [{"t1", "t2", "v", "c"}, ...]}``.
Built only for entities whose type has such hooks (it costs a dict per row).
"""

from __future__ import annotations

from typing import Any

from streamcore.model.modelspec import ModelSpec
from streamcore.model.spec import AttrSpecObservations, AttrSpecPlain
from streamcore.snapshot.values import snapshot_value
from streamcore.state.record import PLAIN_KEY, EntityRecord


def master_record(model: ModelSpec, record: EntityRecord) -> dict[str, Any]:
    """``record`` as a DP³ master-record document (history oldest first)."""
    document: dict[str, Any] = {"_id": record.eid}
    if record.created is not None:
        document["#time_created"] = record.created
    specs = model.entity_attributes[record.etype]
    for attr, rows in record.attrs.items():
        spec = specs.get(attr)
        if spec is None or not rows:
            continue
        if isinstance(spec, AttrSpecPlain):
            row = rows.get(PLAIN_KEY)
            if row is not None:
                document[attr] = {"v": snapshot_value(row.value), "ts_last_update": row.t1}
            continue
        history = []
        for _, row in sorted(rows.items(), key=lambda item: item[0]):
            item: dict[str, Any] = {"t1": row.t1, "t2": row.t2, "v": snapshot_value(row.value)}
            if isinstance(spec, AttrSpecObservations):
                item["c"] = row.c if row.c is not None else 1.0
            history.append(item)
        document[attr] = history
    return document
