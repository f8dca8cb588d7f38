"""Building a control message from an operator's request, checked before it is sent.

A message that every replica would refuse should never reach the topic (it stays there
forever): the action must be allowed by ``control.yml``; ``refresh_module_config`` needs
an enabled module and a configuration that is a mapping and passes the module class's
``validate_config`` if it has one; ``refresh_on_entity_creation`` needs a known entity
type. The new module configuration is the module's ``modules/<name>.yml`` in the config
directory (DP³'s workflow: edit the file, then refresh), or an explicit file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from streamcore.config import AppConfig
from streamcore.control.actions import ALWAYS_ALLOWED
from streamcore.control.modules import config_hash, parse_module_config
from streamcore.errors import StreamcoreError
from streamcore.model.control import ControlAction, ControlMessage


class ControlRequestError(StreamcoreError):
    """A control request refused before sending (the message says why)."""


def build_message(
    config: AppConfig,
    config_dir: Path,
    action: str,
    *,
    module: str | None = None,
    etype: str | None = None,
    module_config_file: Path | None = None,
) -> tuple[ControlMessage, str]:
    """The message and its key; ``ControlRequestError`` if any replica would refuse it."""
    try:
        chosen = ControlAction(action)
    except ValueError:
        names = ", ".join(a.value for a in ControlAction if a is not ControlAction.UNKNOWN)
        raise ControlRequestError(f"unknown action {action!r} (one of {names})") from None
    allowed = set(config.control.allowed_actions) | {a.value for a in ALWAYS_ALLOWED}
    if ControlAction.REFRESH_MODULE_CONFIG.value in allowed:  # its undo goes with it
        allowed.add(ControlAction.RESET_MODULE_CONFIG.value)
    if chosen is ControlAction.UNKNOWN or chosen.value not in allowed:
        raise ControlRequestError(f"{action} is not in control.yml's allowed_actions")
    payload: dict[str, str] = {}
    if chosen is ControlAction.REFRESH_MODULE_CONFIG:
        if not module:
            raise ControlRequestError("refresh_module_config needs --module")
        payload = {
            "module": module,
            "config": _module_config(config, config_dir, module, module_config_file),
            # Made over this file: a replica whose file differs at start keeps its file.
            "file_hash": config_hash(config.modules.get(module) or {}),
        }
    elif chosen is ControlAction.RESET_MODULE_CONFIG:
        if not module:
            raise ControlRequestError("reset_module_config needs --module")
        if module not in config.processing_core.enabled_modules:
            raise ControlRequestError(f"module {module!r} is not enabled in processing_core.yml")
        payload = {"module": module}
    elif chosen is ControlAction.REFRESH_ON_ENTITY_CREATION:
        if not etype or etype not in config.model_spec.entities:
            raise ControlRequestError(
                f"refresh_on_entity_creation needs a known --etype, not {etype!r}"
            )
        payload = {"etype": etype}
    key = f"{chosen.value}:{module}" if module else chosen.value
    return ControlMessage(chosen, payload, datetime.now(UTC)), key


def _module_config(
    config: AppConfig, config_dir: Path, module: str, module_config_file: Path | None
) -> str:
    if module not in config.processing_core.enabled_modules:
        raise ControlRequestError(f"module {module!r} is not enabled in processing_core.yml")
    content: Any = config.modules.get(module) or {}
    if module_config_file is not None:
        try:
            content = yaml.safe_load(module_config_file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ControlRequestError(f"can't read {module_config_file}: {exc}") from exc
    text = json.dumps(content, sort_keys=True, default=str)
    try:
        parse_module_config(_module_class(config, config_dir, module), text)
    except StreamcoreError as exc:
        raise ControlRequestError(f"module {module}: {exc}") from exc
    return text


def _module_class(config: AppConfig, config_dir: Path, module: str) -> Any:
    """The module's class (imported by path, as the worker does), for ``validate_config``."""
    from streamcore.module.loader import find_module_class, import_module_file

    modules_dir = config_dir / config.processing_core.modules_dir
    return find_module_class(module, import_module_file(module, modules_dir))
