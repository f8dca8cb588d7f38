"""Example module: when an IP entity is created, record when it was first seen and whether
it is public (hook ``on_entity_creation``).

First-sight enrichment from the entity id alone: the hook returns one task for the new
entity with two plain attributes, ``ip.first_seen`` (the earliest ``t1`` among the
creating task's data-points, or the current time if none has one, so a replayed creation
derives the same time) and ``ip.is_public`` (``ipaddress``'s ``is_global``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from ipaddress import ip_address
from typing import Any

from streamcore import BaseModule, CallbackRegistrar, DataPoint, DataPointTask, PlatformConfig

SRC = "module/first_seen"


class FirstSeen(BaseModule):
    """Derives ``ip.first_seen`` and ``ip.is_public`` for every new ``ip``."""

    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        super().__init__(platform_config, module_config, registrar)
        registrar.register_on_entity_creation_hook(self.on_ip_created, "ip")

    def on_ip_created(self, eid: Any, task: DataPointTask) -> list[DataPointTask]:
        times = [dp.t1 for dp in task.data_points if dp.t1 is not None]
        first = min(times) if times else datetime.now(UTC)
        return [
            DataPointTask(
                etype="ip",
                eid=eid,
                data_points=[
                    DataPoint("ip", eid, "first_seen", first, src=SRC),
                    DataPoint("ip", eid, "is_public", ip_address(str(eid)).is_global, src=SRC),
                ],
            )
        ]
