"""Test module whose behaviour depends on its ``prefix`` in every role:

- ingestion workers: ``label`` = prefix + name (``on_new_attr``);
- creation (refreshable, DP³'s ``refresh=self.refresh``): ``origin`` = prefix + "created";
- snapshot workers: ``snap_tag`` = prefix in every snapshot (a correlation hook);
- the scheduler: a job every second writes the prefix to ``$ROLETAG_OUT`` (if set).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from streamcore import BaseModule, CallbackRegistrar, DataPoint, DataPointTask, PlatformConfig


class RoleTag(BaseModule):
    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        self.prefix = ""
        super().__init__(platform_config, module_config, registrar)
        registrar.register_on_new_attr_hook(self.tag, "host", "name")
        registrar.register_on_entity_creation_hook(
            self.created, "host", refresh=self.refresh, may_change=[["origin"]]
        )
        registrar.register_correlation_hook(
            self.mark, "host", depends_on=[], may_change=[["snap_tag"]]
        )
        registrar.scheduler_register(self.write_prefix, second="*")

    @staticmethod
    def validate_config(module_config: dict[str, Any]) -> None:
        if not isinstance(module_config.get("prefix"), str):
            raise ValueError("'prefix' must be a string")

    def load_config(self, config: PlatformConfig, module_config: dict[str, Any]) -> None:
        self.prefix = module_config["prefix"]

    def tag(self, eid: Any, dp: DataPoint) -> list[DataPointTask]:
        return [
            DataPointTask("host", eid, [DataPoint("host", eid, "label", f"{self.prefix}{dp.v}")])
        ]

    def created(self, eid: Any, task: DataPointTask) -> list[DataPointTask]:
        origin = DataPoint("host", eid, "origin", f"{self.prefix}created")
        return [DataPointTask("host", eid, [origin])]

    def mark(self, etype: str, record: dict[str, Any]) -> None:
        record["snap_tag"] = self.prefix

    def write_prefix(self) -> None:
        out = os.environ.get("ROLETAG_OUT")
        if out:
            Path(out).write_text(self.prefix, encoding="utf-8")
