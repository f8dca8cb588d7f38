"""``dp3.common.callback_registrar``: the registrar and DP³'s refresh helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from streamcore.common._absent import absent
from streamcore.model.datapoint import DataPointTask
from streamcore.model.modelspec import ModelSpec
from streamcore.module.flag import SharedFlag
from streamcore.module.refresh import RefreshRun, write_plain_values
from streamcore.module.registrar import CallbackRegistrar


def write_datapoints_into_record(
    model_spec: ModelSpec, tasks: list[DataPointTask], record: dict[str, Any]
) -> None:
    """Copy the plain values ``tasks`` derive for the record's entity into ``record``."""
    write_plain_values(model_spec, tasks, record)


def on_entity_creation_in_snapshots(
    model_spec: ModelSpec,
    run_flag: SharedFlag,
    original_hook: Callable[..., Any],
    etype: str,
    record: dict[str, Any],
) -> list[DataPointTask]:
    """Run a creation hook as a snapshot correlation hook while ``run_flag`` is set."""
    return RefreshRun(model_spec, run_flag, original_hook)(etype, record)


on_attr_change_in_snapshots = on_entity_creation_in_snapshots
"""The same for an attribute hook (DP³ has two identical wrappers)."""


def unset_flag(flag: SharedFlag) -> list[DataPointTask]:
    flag.unset()
    return []


__getattr__ = absent(
    __name__,
    {
        "reload_module_config": "streamcore reloads a module's configuration with the "
        "control action refresh_module_config (streamcore control refresh-module-config)"
    },
)

__all__ = [
    "CallbackRegistrar",
    "on_attr_change_in_snapshots",
    "on_entity_creation_in_snapshots",
    "unset_flag",
    "write_datapoints_into_record",
]
