"""BaseModule and SharedFlag: DP³'s attributes and lifecycle defaults."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from streamcore import BaseModule, CallbackRegistrar, PlatformConfig, SharedFlag
from streamcore.errors import UnknownHookTargetError
from streamcore.module.hooks import INGESTION_HOOK_KINDS, HookKind, callback_name
from streamcore.testing import model_spec_from_dicts, platform_config_for

MODEL = {"ip": {"entity": {"id": "ip", "name": "IP", "snapshot": True}, "attribs": {}}}


def test_base_module_sets_refresh_and_log_then_loads_config() -> None:
    loaded: list[tuple[Any, dict[str, Any]]] = []

    class Mine(BaseModule):
        def load_config(self, config: PlatformConfig, module_config: dict[str, Any]) -> None:
            assert isinstance(self.refresh, SharedFlag)  # set before load_config
            loaded.append((config, module_config))

    platform = platform_config_for(model_spec_from_dicts(MODEL))
    module = Mine(platform, {"k": 1}, CallbackRegistrar(platform.model_spec))
    assert loaded == [(platform, {"k": 1})]
    assert isinstance(module.log, logging.Logger) and module.log.name == "Mine"
    assert repr(module.refresh) == "SharedFlag('Refresh Mine', False)"
    assert module.start() is None and module.stop() is None


def test_shared_flag_api() -> None:
    flag = SharedFlag()
    assert not flag.isset()
    flag.set()
    assert flag.isset() and str(flag) == "True"
    flag.set(False)
    assert not flag.isset()
    flag.set()
    flag.unset()
    assert not flag.isset() and repr(flag) == "SharedFlag(False)"


def test_hook_kinds_parse_dp3_names_only_where_allowed() -> None:
    assert HookKind.parse("on_new_attr", INGESTION_HOOK_KINDS) is HookKind.ON_NEW_ATTR
    with pytest.raises(UnknownHookTargetError, match="expected allow_entity_creation"):
        HookKind.parse("snapshot_init", INGESTION_HOOK_KINDS)
    assert HookKind.ON_TASK_START == "on_task_start"  # a str for metrics labels


def test_callback_names_look_through_wrappers() -> None:
    import functools

    def hook() -> None:
        return None

    assert callback_name(functools.partial(hook)).endswith("hook")
    assert callback_name(functools.partial(functools.partial(hook))).endswith("hook")
