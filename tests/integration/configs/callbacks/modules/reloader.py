"""Test module in DP³'s most common shape for scheduled callbacks: a cron callback reloads
a rule from a file (``$RELOADER_RULES``) every second, and an ingestion hook uses the rule
it holds: each ``seen`` gets ``rule`` = the rule loaded in the same process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from streamcore import BaseModule, CallbackRegistrar, DataPoint, DataPointTask, PlatformConfig


class Reloader(BaseModule):
    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        super().__init__(platform_config, module_config, registrar)
        self.rule = "not loaded"
        registrar.scheduler_register(self.reload, second="*")
        registrar.register_on_new_attr_hook(self.tag, "host", "seen")

    def reload(self) -> None:
        self.rule = Path(os.environ["RELOADER_RULES"]).read_text(encoding="utf-8").strip()

    def tag(self, eid: Any, dp: DataPoint) -> list[DataPointTask]:
        return [DataPointTask("host", eid, [DataPoint("host", eid, "rule", self.rule)])]
