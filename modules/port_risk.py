"""Example snapshot module: a risk score per IP from its open ports, its services and the
domains it is linked to (correlation hook across linked entities).

At snapshot time, for every ``ip``:

- ``risk_score`` (a snapshot-only key, 0..100): ``port_weight`` per open port listed in
  ``risky_ports``, ``service_weight`` per named service (``ip.services``, as the ``ports``
  module set it: the declared dependency makes it run first), and ``shared_weight`` per
  linked domain (``ip.domains``) that resolves to more than ``shared_hosting`` addresses
  (the domain's own current ``resolves_to``, read through the link's ``record``);
- ``risk``: ``high`` from ``high_score`` up, ``medium`` from ``medium_score``, else ``low``.

With ``emit_risk: true`` the risk also goes back into ingestion as an ``ip.risk``
data-point when it differs from the stored one (off by default: a snapshot run would
otherwise re-send every changed risk).

Configuration (``config/modules/port_risk.yml``): risky_ports (list), port_weight,
service_weight, shared_weight, shared_hosting, medium_score, high_score, emit_risk.
"""

from __future__ import annotations

from typing import Any

from streamcore import BaseModule, CallbackRegistrar, DataPoint, DataPointTask, PlatformConfig

SRC = "module/port_risk"


class PortRisk(BaseModule):
    """Sets ``risk_score`` and ``risk`` in every ``ip`` snapshot."""

    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        super().__init__(platform_config, module_config, registrar)
        registrar.register_correlation_hook(
            self.score,
            "ip",
            depends_on=[["open_ports"], ["services"], ["domains", "resolves_to"]],
            may_change=[["risk"]],
        )

    def load_config(self, config: PlatformConfig, module_config: dict[str, Any]) -> None:
        self.risky_ports = frozenset(int(p) for p in module_config.get("risky_ports", [23, 445]))
        self.port_weight = int(module_config.get("port_weight", 30))
        self.service_weight = int(module_config.get("service_weight", 5))
        self.shared_weight = int(module_config.get("shared_weight", 10))
        self.shared_hosting = int(module_config.get("shared_hosting", 10))
        self.medium_score = int(module_config.get("medium_score", 20))
        self.high_score = int(module_config.get("high_score", 50))
        self.emit_risk = bool(module_config.get("emit_risk", False))

    def score(self, entity_type: str, values: dict[str, Any]) -> list[DataPointTask] | None:
        ports = values.get("open_ports") or []
        score = self.port_weight * sum(1 for port in ports if port in self.risky_ports)
        score += self.service_weight * len(values.get("services") or [])
        for link in values.get("domains") or []:
            addresses = link.get("record", {}).get("resolves_to") or []
            if len(addresses) > self.shared_hosting:
                score += self.shared_weight
        score = min(score, 100)
        risk = (
            "high"
            if score >= self.high_score
            else "medium"
            if score >= self.medium_score
            else "low"
        )
        stored = values.get("risk")
        values["risk_score"] = score
        values["risk"] = risk
        if not self.emit_risk or stored == risk:
            return None
        eid = values["eid"]
        return [DataPointTask("ip", eid, [DataPoint("ip", eid, "risk", risk, src=SRC)])]
