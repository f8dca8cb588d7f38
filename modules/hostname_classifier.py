"""Example module: classify an IP by its hostname and link it to the hostname's domain
(hook ``on_new_attr`` on ``ip.hostname``).

For every ``ip.hostname`` data-point, the hook derives:

- for the same entity: ``ip.risk`` (``low``/``medium``/``high``: the first configured
  keyword found in the hostname decides, else ``default_risk``) and ``ip.domains`` (a link
  to the hostname's registered domain, its last two labels);
- for the linked entity: ``domain.resolves_to`` = ``[ip]``, an observation valid over the
  hostname data-point's own ``t1``..``t2``, so the link's timing is preserved.

Hostnames with fewer than two labels derive only the risk.

Configuration (``config/modules/hostname_classifier.yml``):
    keywords: mapping keyword -> risk (low, medium, high); checked in order
    default_risk: risk when no keyword matches (default low)
"""

from __future__ import annotations

from typing import Any

from streamcore import (
    BaseModule,
    CallbackRegistrar,
    DataPoint,
    DataPointTask,
    Link,
    PlatformConfig,
)

SRC = "module/hostname_classifier"


class HostnameClassifier(BaseModule):
    """Derives ``ip.risk``, ``ip.domains`` and ``domain.resolves_to`` from ``ip.hostname``."""

    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        super().__init__(platform_config, module_config, registrar)
        registrar.register_on_new_attr_hook(self.on_hostname, "ip", "hostname")

    def load_config(self, config: PlatformConfig, module_config: dict[str, Any]) -> None:
        self.keywords: dict[str, str] = dict(module_config.get("keywords") or {})
        self.default_risk: str = module_config.get("default_risk", "low")

    def classify(self, hostname: str) -> str:
        name = hostname.lower()
        return next(
            (risk for word, risk in self.keywords.items() if word in name), self.default_risk
        )

    def on_hostname(self, eid: Any, dp: DataPoint) -> list[DataPointTask]:
        hostname = str(dp.v).rstrip(".").lower()
        own = [DataPoint("ip", eid, "risk", self.classify(hostname), src=SRC)]
        labels = hostname.split(".")
        if len(labels) < 2:
            return [DataPointTask("ip", eid, own)]
        domain = ".".join(labels[-2:])
        own.append(DataPoint("ip", eid, "domains", [Link(domain)], src=SRC))
        resolves = DataPoint("domain", domain, "resolves_to", [eid], t1=dp.t1, t2=dp.t2, src=SRC)
        return [DataPointTask("ip", eid, own), DataPointTask("domain", domain, [resolves])]
