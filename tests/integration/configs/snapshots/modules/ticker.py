"""Test module for the metrics tests: a periodic update hook and a cron callback, so the
updater and the scheduler have work (and their dashboard panels data) within seconds.
Enabled only by configs/prometheus; the snapshot configs leave it off."""

from __future__ import annotations

from typing import Any

from streamcore.config import PlatformConfig
from streamcore.module.base import BaseModule
from streamcore.module.registrar import CallbackRegistrar


class Ticker(BaseModule):
    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        super().__init__(platform_config, module_config, registrar)
        self.ticks = 0
        registrar.register_periodic_update_hook(self.visit, "ticker-visit", "ip", "2s")
        registrar.scheduler_register(self.tick, second="*/2")

    def visit(self, etype: str, eid: Any, record: dict[str, Any]) -> list[Any]:
        return []

    def tick(self) -> None:
        self.ticks += 1
