"""Fault-suite module: a hook that hangs 60 s on every ``slow`` value (cut at its budget)."""

from __future__ import annotations

import time
from typing import Any

from streamcore.config import PlatformConfig
from streamcore.model.datapoint import DataPoint
from streamcore.module.base import BaseModule
from streamcore.module.registrar import CallbackRegistrar


class Sleeper(BaseModule):
    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        super().__init__(platform_config, module_config, registrar)
        registrar.register_on_new_attr_hook(self.hang, "sensor", "slow")

    def hang(self, eid: Any, dp: DataPoint) -> None:
        time.sleep(60)
