"""The example snapshot modules (modules/ports.py, modules/port_risk.py) on the example
config: services named before the risk is scored, linked domain data read through links."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from streamcore import Link
from streamcore.module import load_modules
from streamcore.snapshot.engine import Snapshotter
from streamcore.snapshot.hooks import SnapshotHooks
from streamcore.state.encoding import dumps
from streamcore.state.merge import interval_key
from streamcore.state.record import PLAIN_KEY, EntityRecord, Row
from streamcore.testing import load_app_config

CONFIG = Path(__file__).parents[2] / "config"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def observe(record: EntityRecord, attr: str, v: Any) -> None:
    t1, t2 = NOW - timedelta(minutes=5), NOW
    record.put(attr, interval_key(t1, t2, dumps(v)), Row(v, dumps(v), t1=t1, t2=t2, c=1.0))


class Loader:
    def __init__(self, *records: EntityRecord) -> None:
        self.records = {(r.etype, r.eid): r for r in records}

    def load(self, keys: Sequence[tuple[str, Any]]) -> list[EntityRecord]:
        return [self.records.get(k) or EntityRecord(k[0], k[1], str(k[1])) for k in keys]


def test_risk_score_from_ports_services_and_linked_domain() -> None:
    app = load_app_config(CONFIG)
    registrar, _ = load_modules(app.platform_config("test"))
    domain = EntityRecord("domain", "shared.example", "shared.example", exists=True)
    observe(domain, "resolves_to", [IPv4Address(f"198.51.100.{i}") for i in range(5)])
    ip = EntityRecord("ip", IPv4Address("192.0.2.1"), "192.0.2.1", exists=True)
    observe(ip, "open_ports", [22, 23, 443])
    links = [Link("shared.example")]
    ip.put("domains", PLAIN_KEY, Row(links, dumps(links), t1=NOW))
    registry = registrar.registry
    engine = Snapshotter(
        app.model_spec, SnapshotHooks(registry), Loader(domain), registry.used_links
    )
    ((_, _, values),) = engine.snapshot([ip], NOW).snapshots
    assert values["services"] == ["https", "ssh"]
    # 23 is risky (30) + two services (2 * 5) + a domain on more than 3 addresses (10)
    assert values["risk_score"] == 50
    assert values["risk"] == "high"
    assert values["domains"] == [{"eid": "shared.example"}]
