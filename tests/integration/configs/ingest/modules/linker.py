"""Test module: every ip -> domain link derives the reverse link and the name's length."""

from __future__ import annotations

from typing import Any

from streamcore.config import PlatformConfig
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.module.base import BaseModule
from streamcore.module.registrar import CallbackRegistrar


class Linker(BaseModule):
    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        super().__init__(platform_config, module_config, registrar)
        registrar.register_on_new_attr_hook(self.link_back, "ip", "domain")

    def link_back(self, eid: Any, dp: DataPoint) -> list[DataPointTask]:
        name = dp.v.eid
        return [
            DataPointTask(
                "domain",
                name,
                [
                    DataPoint("domain", name, "name_length", len(name)),
                    DataPoint("domain", name, "seen_from", {"eid": str(eid)}, dp.t1, dp.t2),
                ],
            )
        ]
