"""Test module whose output depends on its configuration: labels are ``prefix + name``."""

from __future__ import annotations

from typing import Any

from streamcore.config import PlatformConfig
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.module.base import BaseModule
from streamcore.module.registrar import CallbackRegistrar


class Tagger(BaseModule):
    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        self.loaded: list[dict[str, Any]] = []  # every config load_config was given
        self.prefix = ""
        super().__init__(platform_config, module_config, registrar)
        registrar.register_on_new_attr_hook(self.tag, "host", "name")
        registrar.register_on_entity_creation_hook(
            self.created, "host", refresh=self.refresh, may_change=[["origin"]]
        )

    @staticmethod
    def validate_config(module_config: dict[str, Any]) -> None:
        if not isinstance(module_config.get("prefix"), str):
            raise ValueError("'prefix' must be a string")

    def load_config(self, config: PlatformConfig, module_config: dict[str, Any]) -> None:
        self.loaded.append(dict(module_config))
        if module_config.get("fail"):  # what only loading finds (a file missing, ...)
            raise ValueError("asked to fail")
        prefix = module_config["prefix"]
        if not isinstance(prefix, str):
            raise ValueError(f"'prefix' must be a string, not {prefix!r}")
        self.prefix = prefix

    def tag(self, eid: Any, dp: DataPoint) -> list[DataPointTask]:
        label = DataPoint("host", eid, "label", f"{self.prefix}{dp.v}")
        return [DataPointTask("host", eid, [label])]

    def created(self, eid: Any, task: DataPointTask) -> list[DataPointTask]:
        origin = DataPoint("host", eid, "origin", f"{self.prefix}created")
        return [DataPointTask("host", eid, [origin])]
