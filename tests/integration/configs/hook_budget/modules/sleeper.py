"""Test module: an ``on_new_attr`` hook that hangs (60 s) on one ip and is instant on others."""

from __future__ import annotations

import time
from typing import Any

from streamcore.config import PlatformConfig
from streamcore.model.datapoint import DataPoint
from streamcore.module.base import BaseModule
from streamcore.module.registrar import CallbackRegistrar

SLOW_IP = "192.0.2.66"


class Sleeper(BaseModule):
    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        super().__init__(platform_config, module_config, registrar)
        registrar.register_on_new_attr_hook(self.on_hostname, "ip", "hostname")

    def on_hostname(self, eid: Any, dp: DataPoint) -> None:
        if str(eid) == SLOW_IP:
            time.sleep(60)
