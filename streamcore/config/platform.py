"""``PlatformConfig``: what a module receives, with DP³'s attribute names."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, NonNegativeInt, PositiveInt, model_validator

from streamcore.errors import StreamcoreError
from streamcore.model.modelspec import ModelSpec


class NoDefault:
    """The default of ``HierarchicalDict.get``: no default, a missing key raises (DP³)."""


class MissingConfigError(StreamcoreError):
    """``HierarchicalDict.get`` without a default found no value at the key path (DP³'s)."""


class HierarchicalDict(dict[str, Any]):
    """The raw configuration as DP³ modules expect it (DP³'s semantics exactly).

    ``get("a.b.c")`` walks nested mappings and raises ``MissingConfigError`` when a key is
    missing and no default is given; ``update`` merges nested dicts instead of replacing
    them. streamcore's own code reads the typed sections instead.
    """

    def __repr__(self) -> str:
        return f"HierarchicalDict({dict.__repr__(self)})"

    def copy(self) -> HierarchicalDict:
        return HierarchicalDict(dict.copy(self))

    def get(self, key: str, default: Any = NoDefault) -> Any:
        node: Any = self
        try:
            for part in key.split("."):
                node = node[part]
        except (KeyError, TypeError, IndexError):
            if default is NoDefault:
                raise MissingConfigError(
                    "Mandatory configuration element is missing: " + key
                ) from None
            return default
        return node

    def update(self, other: Any = (), /, **kwargs: Any) -> None:
        """Merge ``other`` in: where both values are dicts they are merged, recursively;
        otherwise the value from ``other`` wins (as ``dict.update``)."""
        _deep_update(self, dict(other, **kwargs))


def _deep_update(target: dict[str, Any], other: dict[str, Any]) -> None:
    for key, value in other.items():
        current = dict.get(target, key)
        if isinstance(current, dict) and isinstance(value, dict):
            _deep_update(current, value)
        else:
            target[key] = value


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
