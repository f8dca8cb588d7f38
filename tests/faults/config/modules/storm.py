"""Fault-suite module: a hook that triggers itself (``loop`` derives ``loop``), for ever.

Only the worker's hop limit stops it.
"""

from __future__ import annotations

from typing import Any

from streamcore.config import PlatformConfig
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.module.base import BaseModule
from streamcore.module.registrar import CallbackRegistrar


class Storm(BaseModule):
    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        super().__init__(platform_config, module_config, registrar)
        registrar.register_on_new_attr_hook(self.again, "sensor", "loop")

    def again(self, eid: Any, dp: DataPoint) -> list[DataPointTask]:
        return [DataPointTask("sensor", eid, [DataPoint("sensor", eid, "loop", dp.v + 1)])]
