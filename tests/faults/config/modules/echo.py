"""Fault-suite module: every sensor reading derives exactly one echo task with its number.

So a derived task seen twice on the input topic (read_committed) is a duplicate, and a
reading without its echo is a derived task lost. Its config's ``shift`` (0 in the file) is
added to every echo: a forged control refresh that got through would move every echo off its
reading, and the readings would count as lost.
"""

from __future__ import annotations

from typing import Any

from streamcore.config import PlatformConfig
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.module.base import BaseModule
from streamcore.module.registrar import CallbackRegistrar

ECHOES = 32


class Echo(BaseModule):
    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        self.shift = 0
        super().__init__(platform_config, module_config, registrar)
        registrar.register_on_new_attr_hook(self.echo, "sensor", "reading")

    def load_config(self, config: PlatformConfig, module_config: dict[str, Any]) -> None:
        self.shift = int(module_config.get("shift", 0))

    def echo(self, eid: Any, dp: DataPoint) -> list[DataPointTask]:
        target = f"e{dp.v % ECHOES}"
        seen = DataPoint("echo", target, "seen", dp.v + self.shift, dp.t1, dp.t2)
        return [DataPointTask("echo", target, [seen])]
