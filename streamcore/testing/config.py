"""Building the configuration objects a module needs, without a server or a worker.

``model_spec_from_dicts`` and ``platform_config_for`` build a ``ModelSpec`` and a
``PlatformConfig`` from Python dicts (the content of ``db_entities/*.yml``), for tests that
want a small model of their own; ``load_app_config`` reads a whole configuration directory
with the same checks as ``streamcore check-config``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from streamcore.config import AppConfig, HierarchicalDict, PlatformConfig, load_config
from streamcore.model.modelspec import ModelSpec, build_model_spec


def model_spec_from_dicts(entities: Mapping[str, Mapping[str, Any]]) -> ModelSpec:
    """A model from ``{label: {"entity": {...}, "attribs": {...}}}`` (``ConfigError`` if wrong)."""
    return build_model_spec(dict(entities))


def platform_config_for(
    model_spec: ModelSpec,
    *,
    app_name: str = "test",
    config_base_path: str | Path = ".",
    config: Mapping[str, Any] | None = None,
    num_processes: int = 1,
    process_index: int = 0,
) -> PlatformConfig:
    """A ``PlatformConfig`` around ``model_spec``; ``config`` is the raw configuration
    (one key per file: ``{"processing_core": {...}, "modules": {"name": {...}}}``)."""
    return PlatformConfig(
        app_name=app_name,
        config_base_path=str(config_base_path),
        config=HierarchicalDict(config or {}),
        model_spec=model_spec,
        num_processes=num_processes,
        process_index=process_index,
    )


def load_app_config(config_dir: str | Path) -> AppConfig:
    """The checked configuration directory (``ConfigError`` listing every problem)."""
    return load_config(config_dir)
