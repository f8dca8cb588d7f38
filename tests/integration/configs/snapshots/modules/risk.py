"""Test module: a domain hook (with master record) that ip hooks depend on through a link,
registered in the opposite order, plus run hooks that count."""

from __future__ import annotations

from typing import Any

from streamcore import BaseModule, CallbackRegistrar, DataPoint, DataPointTask, PlatformConfig


class Risk(BaseModule):
    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        super().__init__(platform_config, module_config, registrar)
        self.calls: list[str] = []
        self.inits = 0
        self.finals = 0
        registrar.register_correlation_hook(
            self.ip_risk, "ip", depends_on=[["domain", "bad"], ["ports"]], may_change=[["risk"]]
        )
        registrar.register_correlation_hook_with_master_record(
            self.domain_bad, "domain", depends_on=[["label"]], may_change=[["bad"]]
        )
        registrar.register_snapshot_init_hook(self.init)
        registrar.register_snapshot_finalize_hook(self.finalize)

    def init(self) -> list[DataPointTask]:
        self.inits += 1
        return []

    def finalize(self) -> list[DataPointTask]:
        self.finals += 1
        return []

    def domain_bad(self, etype: str, values: dict[str, Any], master: dict[str, Any]) -> None:
        self.calls.append(f"domain {values['eid']}")
        assert master["_id"] == values["eid"] and master.get("label", {}).get("v") == values.get(
            "label"
        )
        values["bad"] = "yes" if values.get("label") == "evil" else "no"

    def ip_risk(self, etype: str, values: dict[str, Any]) -> list[DataPointTask]:
        self.calls.append(f"ip {values['eid']}")
        domain = values.get("domain", {}).get("record", {})
        risky = domain.get("bad") == "yes" or 23 in (values.get("ports") or [])
        values["risk"] = "high" if risky else "low"
        values["seen_domain_label"] = domain.get("label")
        eid = values["eid"]
        return [DataPointTask("ip", eid, [DataPoint("ip", eid, "risk", values["risk"])])]
