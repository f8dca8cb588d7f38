"""Example snapshot module: name the services behind an IP's open ports (correlation hook).

At snapshot time, ``ip.services`` in the snapshot becomes the names of the currently open
ports (``ip.open_ports``'s current value) that ``well_known`` lists, sorted. Snapshot-only:
the derived value shapes the snapshot and later hooks (``port_risk`` reads it), and is not
sent back into ingestion.

Configuration (``config/modules/ports.yml``):
    well_known: mapping port number -> service name
"""

from __future__ import annotations

from typing import Any

from streamcore import BaseModule, CallbackRegistrar, PlatformConfig


class Ports(BaseModule):
    """Sets ``services`` from ``open_ports`` in every ``ip`` snapshot."""

    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        super().__init__(platform_config, module_config, registrar)
        registrar.register_correlation_hook(
            self.name_services, "ip", depends_on=[["open_ports"]], may_change=[["services"]]
        )

    def load_config(self, config: PlatformConfig, module_config: dict[str, Any]) -> None:
        known = module_config.get("well_known") or {}
        self.well_known: dict[int, str] = {int(port): str(name) for port, name in known.items()}

    def name_services(self, entity_type: str, values: dict[str, Any]) -> None:
        ports = values.get("open_ports") or []
        names = sorted({self.well_known[p] for p in ports if p in self.well_known})
        if names:
            values["services"] = names
