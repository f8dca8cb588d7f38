"""``dp3.testing.config``: the configuration a module test runs against."""

from __future__ import annotations

import os
from typing import Any

from streamcore.common.config import HierarchicalDict, read_config_dir
from streamcore.config import PlatformConfig
from streamcore.model.modelspec import ModelSpec

CONFIG_DIR_ENV = "DP3_CONFIG_DIR"


def resolve_config_dir(config_dir: str | None = None, env_var: str = CONFIG_DIR_ENV) -> str:
    """``config_dir``, else ``$DP3_CONFIG_DIR``, as an absolute path (``ValueError`` if none)."""
    resolved = config_dir or os.environ.get(env_var)
    if not resolved:
        raise ValueError(
            f"DP3 module tests require a config directory. Set {env_var} or pass "
            "config_dir explicitly."
        )
    return os.path.abspath(resolved)


def load_config(config_dir: str | None = None, env_var: str = CONFIG_DIR_ENV) -> HierarchicalDict:
    """The configuration directory read recursively (``db_entities``, ``modules`` ...)."""
    return read_config_dir(resolve_config_dir(config_dir, env_var), recursive=True)


def build_model_spec(config: HierarchicalDict) -> ModelSpec:
    """The model of ``config``'s ``db_entities`` (``ValueError`` if it is invalid)."""
    return ModelSpec(config.get("db_entities"))


def build_platform_config(
    config: HierarchicalDict,
    model_spec: ModelSpec,
    config_dir: str | None = None,
    *,
    app_name: str = "test",
    process_index: int = 0,
    num_processes: int = 1,
    env_var: str = CONFIG_DIR_ENV,
) -> PlatformConfig:
    """The ``PlatformConfig`` a module receives (``worker_processes`` from the config)."""
    num_processes = config.get("processing_core.worker_processes", num_processes)
    return PlatformConfig(
        app_name=app_name,
        config_base_path=resolve_config_dir(config_dir, env_var),
        config=config,
        model_spec=model_spec,
        process_index=process_index,
        num_processes=num_processes,
    )


def get_module_config(config: HierarchicalDict, module_name: str | None) -> Any:
    """``modules.<module_name>`` of the configuration, ``{}`` if absent."""
    if module_name is None:
        return {}
    return config.get(f"modules.{module_name}", {})


__all__ = [
    "CONFIG_DIR_ENV",
    "build_model_spec",
    "build_platform_config",
    "get_module_config",
    "load_config",
    "resolve_config_dir",
]
