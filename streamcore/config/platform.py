"""``PlatformConfig``: what a module receives, with DP³'s attribute names."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, NonNegativeInt, PositiveInt, model_validator

from streamcore.model.modelspec import ModelSpec


class HierarchicalDict(dict[str, Any]):
    """The raw configuration as DP³ modules expect it: ``get("a.b.c", default)`` walks nested
    mappings. streamcore's own code reads the typed sections instead."""

    def get(self, key: str, default: Any = None) -> Any:
        node: Any = self
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node


class PlatformConfig(BaseModel):
    """Aggregated configuration passed to modules.

    Attributes:
        app_name: name of the application; topic and keyspace names derive from it
        config_base_path: the configuration directory
        config: the raw configuration, one key per file (``modules`` holds the module files)
        model_spec: the entity model
        num_processes: number of worker processes
        process_index: index of this process, ``0 <= process_index < num_processes``
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, protected_namespaces=(), frozen=True)

    app_name: str
    config_base_path: str
    config: HierarchicalDict
    model_spec: ModelSpec
    num_processes: PositiveInt
    process_index: NonNegativeInt

    @model_validator(mode="after")
    def _index_in_range(self) -> PlatformConfig:
        if self.process_index >= self.num_processes:
            raise ValueError("process_index must be less than num_processes")
        return self

    def __repr__(self) -> str:
        return (
            f"PlatformConfig({self.app_name}, {self.config_base_path}, {self.model_spec!r}, "
            f"num_processes={self.num_processes}, process_index={self.process_index})"
        )
