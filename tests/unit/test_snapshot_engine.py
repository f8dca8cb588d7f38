"""The snapshot engine on in-memory records: linked entities loaded and wired for hooks,
hooks in dependency order across entities, tasks only from owned entities, failures
counted, oversized components bounded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from streamcore.model.datapoint import DataPoint, DataPointTask, Link
from streamcore.module import CallbackRegistrar
from streamcore.snapshot.engine import Snapshotter
from streamcore.snapshot.hooks import SnapshotHooks
from streamcore.state.encoding import dumps
from streamcore.state.record import PLAIN_KEY, EntityRecord, Row
from streamcore.testing.config import model_spec_from_dicts

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PLAIN = {"type": "plain", "data_type": "string"}
MODEL = model_spec_from_dicts(
    {
        "ip": {
            "entity": {"id": "ip", "name": "IP", "snapshot": True},
            "attribs": {
                "risk": {"name": "r", **PLAIN},
                "domain": {"name": "d", "type": "plain", "data_type": "link<domain>"},
            },
        },
        "domain": {
            "entity": {"id": "domain", "name": "D", "snapshot": True},
            "attribs": {
                "label": {"name": "l", **PLAIN},
                "bad": {"name": "b", **PLAIN},
                "next": {"name": "n", "type": "plain", "data_type": "link<domain>"},
            },
        },
    }
)


def entity(etype: str, eid: str, **plain: Any) -> EntityRecord:
    record = EntityRecord(etype, eid, eid, exists=True, created=T0)
    for attr, value in plain.items():
        record.put(attr, PLAIN_KEY, Row(value, dumps(value), t1=T0))
    return record


class Loader:
    def __init__(self, *records: EntityRecord) -> None:
        self.records = {(r.etype, r.eid): r for r in records}
        self.calls: list[list[tuple[str, Any]]] = []

    def load(self, keys: Sequence[tuple[str, Any]]) -> list[EntityRecord]:
        self.calls.append(list(keys))
        return [self.records.get(k) or EntityRecord(k[0], k[1], str(k[1])) for k in keys]


def setup(loader: Loader, **kwargs: Any) -> tuple[Snapshotter, SnapshotHooks, list[str]]:
    registrar = CallbackRegistrar(MODEL)
    order: list[str] = []

    def ip_risk(etype: str, values: dict[str, Any]) -> list[DataPointTask]:
        order.append(f"risk {values['eid']}")
        bad = values.get("domain", {}).get("record", {}).get("bad")
        values["risk"] = "high" if bad == "yes" else "low"
        return [DataPointTask("ip", values["eid"], [DataPoint("ip", values["eid"], "risk", "x")])]

    def domain_bad(etype: str, values: dict[str, Any], master: dict[str, Any]) -> None:
        order.append(f"bad {values['eid']}")
        assert master["_id"] == values["eid"]
        values["bad"] = "yes" if values.get("label") == "evil" else "no"

    def broken(etype: str, values: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    # registered in the "wrong" order: the dependency must put domain_bad first
    registrar.register_correlation_hook(ip_risk, "ip", [["domain", "bad"]], [["risk"]])
    registrar.register_correlation_hook_with_master_record(
        domain_bad, "domain", [["label"]], [["bad"]]
    )
    registrar.register_correlation_hook(broken, "domain", [["next", "label"]], [])
    hooks = SnapshotHooks(registrar.registry)
    engine = Snapshotter(MODEL, hooks, loader, registrar.registry.used_links, **kwargs)
    return engine, hooks, order


def test_linked_entities_are_loaded_and_hooks_see_their_hook_written_values() -> None:
    loader = Loader(entity("domain", "evil.example", label="evil"))
    engine, hooks, order = setup(loader)
    ips = [
        entity("ip", "1.1.1.1", domain=Link("evil.example")),
        entity("ip", "2.2.2.2", domain=Link("missing.example")),
    ]
    result = engine.snapshot(ips, T0)
    snapshots = {eid: values for _, eid, values in result.snapshots}
    assert set(snapshots) == {"1.1.1.1", "2.2.2.2"}  # only owned entities are snapshots
    assert snapshots["1.1.1.1"]["risk"] == "high"
    assert snapshots["2.2.2.2"]["risk"] == "low"
    assert snapshots["1.1.1.1"]["domain"] == {"eid": "evil.example"}  # record detached
    assert order.index("bad evil.example") < order.index("risk 1.1.1.1")
    assert loader.calls == [[("domain", "evil.example"), ("domain", "missing.example")]]
    assert [t.eid for t in result.tasks] == ["1.1.1.1", "2.2.2.2"]
    assert hooks.failures == 1  # the broken hook, on the one existing domain; run went on


def test_hooks_on_linked_entities_emit_nothing_from_a_task_that_does_not_own_them() -> None:
    loader = Loader(entity("ip", "1.1.1.1", domain=Link("evil.example")))
    engine, _, _ = setup(loader)
    domain = entity("domain", "evil.example", label="evil")
    result = engine.snapshot([domain], T0)
    assert [eid for _, eid, _ in result.snapshots] == ["evil.example"]
    assert result.tasks == []


def test_without_keep_empty_links_to_missing_entities_are_dropped() -> None:
    engine, _, _ = setup(Loader(), keep_empty=False)
    result = engine.snapshot([entity("ip", "2.2.2.2", domain=Link("missing.example"))], T0)
    assert "domain" not in result.snapshots[0][2]


def test_a_component_over_the_limit_stops_growing_and_is_counted() -> None:
    chain = [entity("domain", f"d{i}", next=Link(f"d{i + 1}")) for i in range(10)]
    loader = Loader(*chain[1:])
    engine, _, _ = setup(loader, max_component=4)
    result = engine.snapshot([chain[0]], T0)
    assert result.oversized_components == 1
    assert result.linked_loaded <= 4
    assert len(result.snapshots) == 1
