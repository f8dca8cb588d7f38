"""Test module: reads domain.bad, writes ip.risk: with ``first`` a cycle."""

from __future__ import annotations

from typing import Any

from streamcore import BaseModule, CallbackRegistrar, PlatformConfig


class Second(BaseModule):
    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        super().__init__(platform_config, module_config, registrar)
        registrar.register_correlation_hook(
            self.hook, "ip", depends_on=[["domain", "bad"]], may_change=[["risk"]]
        )

    def hook(self, etype: str, values: dict[str, Any]) -> None:
        return None
