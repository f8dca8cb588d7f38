"""Example module: IP entities are created only inside configured prefixes
(hook ``allow_entity_creation``).

Admission control: when a task is about to create an ``ip`` entity, the address must lie
in one of ``allowed_prefixes``, else the task is dropped (no entity, no data-points, no
further hooks). Tasks for IPs that already exist are not asked about.

Configuration (``config/modules/prefix_filter.yml``):
    allowed_prefixes: list of CIDR prefixes (IPv4); empty or missing allows everything
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, ip_address
from typing import Any

from streamcore import BaseModule, CallbackRegistrar, DataPointTask, PlatformConfig


class PrefixFilter(BaseModule):
    """Denies creating ``ip`` entities outside ``allowed_prefixes``."""

    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        super().__init__(platform_config, module_config, registrar)
        registrar.register_allow_entity_creation_hook(self.allow_ip, "ip")

    def load_config(self, config: PlatformConfig, module_config: dict[str, Any]) -> None:
        prefixes = module_config.get("allowed_prefixes") or []
        self.prefixes = [IPv4Network(prefix) for prefix in prefixes]
        self.log.debug("Allowed prefixes: %s", self.prefixes)

    def allow_ip(self, eid: Any, task: DataPointTask) -> bool:
        if not self.prefixes:
            return True
        address = eid if isinstance(eid, IPv4Address) else ip_address(str(eid))
        return any(address in prefix for prefix in self.prefixes)
