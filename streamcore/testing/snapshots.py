"""Correlation hooks in the harness: a snapshot of entities given as plain values.

``ModuleHarness.snapshot(entities)`` builds each entity's state from the values a test
gives (a plain attribute holds the value; an observation attribute one observation valid
at the snapshot time, confidence 1; an ``EntityRecord`` is taken as it is), keeps them in
memory as the store would hold them, and runs the real snapshot engine over them: the
modules' correlation hooks in dependency order, linked entities loaded through their links
(a link to an entity that is not given loads as a missing one, as in production).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from streamcore.model.datapoint import DataPointTask
from streamcore.model.modelspec import ModelSpec
from streamcore.model.spec import AttrType
from streamcore.module.hooklog import HookFailureLog
from streamcore.module.registrar import CallbackRegistrar
from streamcore.snapshot.engine import Snapshotter
from streamcore.snapshot.hooks import SnapshotHooks
from streamcore.state.encoding import dumps
from streamcore.state.merge import interval_key
from streamcore.state.record import PLAIN_KEY, EntityRecord, Row
from streamcore.testing.run import Failure, FailureCapture, HookFailed

Entities = Mapping[str, Mapping[Any, Mapping[str, Any] | EntityRecord]]
"""entity type -> eid -> {attribute: value} (or an ``EntityRecord``)."""

OBSERVED_FOR = timedelta(minutes=1)
"""An observation given as a plain value was seen from this long before the snapshot."""


@dataclass
class SnapshotRun:
    """What one harness snapshot produced."""

    time: datetime
    values: dict[tuple[str, Any], dict[str, Any]] = field(default_factory=dict)
    """(entity type, eid) -> the snapshot's values (what the snapshots table would hold)."""
    tasks: list[DataPointTask] = field(default_factory=list)
    """Tasks the correlation hooks returned (they would go to the input topic)."""
    failures: list[Failure] = field(default_factory=list)

    def of(self, etype: str, eid: Any) -> dict[str, Any]:
        """The snapshot of one entity (eid as given or as its type parses it)."""
        for (kind, key), values in self.values.items():
            if kind == etype and (key == eid or str(key) == str(eid)):
                return values
        raise KeyError(f"no snapshot of {etype} {eid!r}; snapshots of: {sorted(self.values)}")


class _MemoryLoader:
    def __init__(self, records: Iterable[EntityRecord]) -> None:
        self.records = {(r.etype, r.eid): r for r in records}

    def load(self, keys: Sequence[tuple[str, Any]]) -> list[EntityRecord]:
        return [self.records.get(k) or EntityRecord(k[0], k[1], str(k[1])) for k in keys]


def build_record(
    model: ModelSpec, etype: str, eid: Any, values: Mapping[str, Any], time: datetime
) -> EntityRecord:
    """An existing entity holding ``values`` as of ``time`` (see the module docstring)."""
    parsed = model.parse_eid(etype, eid)
    record = EntityRecord(etype, parsed, str(parsed), exists=True, created=time - OBSERVED_FOR)
    for attr, v in values.items():
        kind = model.attr(etype, attr).t
        if kind is AttrType.PLAIN:
            record.put(attr, PLAIN_KEY, Row(v, dumps(v), t1=time - OBSERVED_FOR))
        elif kind is AttrType.OBSERVATIONS:
            t1, t2 = time - OBSERVED_FOR, time
            record.put(attr, interval_key(t1, t2, dumps(v)), Row(v, dumps(v), t1=t1, t2=t2, c=1.0))
        else:
            raise ValueError(
                f"{etype}.{attr} is a timeseries: give the entity as an EntityRecord to "
                "snapshot it with series data"
            )
    return record


def run_snapshot(
    registrar: CallbackRegistrar,
    model: ModelSpec,
    entities: Entities,
    *,
    time: datetime | None = None,
    only: Iterable[tuple[str, Any]] | None = None,
    strict: bool = True,
) -> SnapshotRun:
    """Snapshot ``entities`` (all of them, or the ``only`` ones with the rest as linked
    context) with the registered correlation hooks; ``HookFailed`` if a hook fails and
    ``strict``."""
    time = time or datetime.now(UTC).replace(microsecond=0)
    records = [
        given if isinstance(given, EntityRecord) else build_record(model, etype, eid, given, time)
        for etype, by_eid in entities.items()
        for eid, given in by_eid.items()
    ]
    wanted = None if only is None else {(t, str(e)) for t, e in only}
    owned = [r for r in records if wanted is None or (r.etype, str(r.eid)) in wanted]
    registry = registrar.registry
    hooks = SnapshotHooks(registry, failures=HookFailureLog(interval=0))
    engine = Snapshotter(model, hooks, _MemoryLoader(records), registry.used_links)
    capture = FailureCapture()
    logger = logging.getLogger("streamcore.module.hooklog")
    logger.addHandler(capture)
    try:
        tasks = hooks.run_init()
        result = engine.snapshot(owned, time)
        tasks += result.tasks + hooks.run_finalize()
    finally:
        logger.removeHandler(capture)
    run = SnapshotRun(time, {(e, i): v for e, i, v in result.snapshots}, tasks)
    run.failures.extend(capture.failures)
    if strict and (run.failures or hooks.failures):
        message = "; ".join(f.message for f in run.failures) or f"{hooks.failures} hook(s) failed"
        first = run.failures[0].exc if run.failures else None
        raise HookFailed(message) from first
    return run
