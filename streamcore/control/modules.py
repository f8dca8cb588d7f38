"""Changing a running module's configuration: ``refresh_module_config``, replica side.

DP³ reloads ``modules/<name>.yml`` from each worker's disk; streamcore carries the new
configuration in the control message, so every replica applies the same one. Per
module, on the thread that runs its hooks (the worker calls ``apply`` between batches):

1. the config must be a JSON object (a mapping), and pass the module class's own
   ``validate_config(module_config)`` if it defines one (a streamcore extension: raise
   ``ValueError`` to refuse);
2. ``module.load_config(platform_config, config)``; if it raises, the module is given its
   previous configuration again (``load_config(previous)``), so the old one keeps
   running, and the refusal is returned (acknowledged as failed, logged, counted);
3. on success the module's ``refresh`` flag is set, as in DP³: hooks registered with
   ``refresh=`` re-run in the next snapshot run (see ``streamcore.module.refresh``).

Versions: 0 is the configuration read from the config directory at start-up; a
refresh's version is its control-topic offset + 1 (the same on every replica, increasing).

Precedence (one rule): **the newest change wins, and a changed file is a change.** A
refresh carries ``file_hash``, the hash of the module's file as the sender's config
directory had it. A replica catching up at start applies the latest refresh only if its
own file still has that hash; if the file changed since (edited, or a ``helm upgrade``
rolled new config), the file wins and the refresh is skipped. ``reset_module_config``
returns a module to its file on every replica, and stays in force after restarts until
the next refresh. A refresh arriving live always applies: it is the operator's newest word.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from typing import Any

from streamcore.config.platform import PlatformConfig
from streamcore.control.acks import Outcome
from streamcore.errors import StreamcoreError
from streamcore.module.base import BaseModule

log = logging.getLogger(__name__)


class ModuleConfigError(StreamcoreError):
    """A module configuration that is refused before ``load_config`` is called."""


def parse_module_config(module_class: type[BaseModule], text: str) -> dict[str, Any]:
    """The configuration in ``text`` (JSON), checked; ``ModuleConfigError`` if refused."""
    try:
        config = json.loads(text)
    except ValueError as exc:
        raise ModuleConfigError(f"the configuration is not valid JSON: {exc}") from exc
    if not isinstance(config, dict):
        raise ModuleConfigError(f"the configuration must be a mapping, not {type(config).__name__}")
    validate = getattr(module_class, "validate_config", None)
    if callable(validate):
        try:
            validate(config)
        except (ValueError, TypeError, KeyError) as exc:
            raise ModuleConfigError(f"{module_class.__name__}.validate_config: {exc}") from exc
    return config


def config_hash(config: Any) -> str:
    """A short, stable hash of a module configuration (key order does not matter)."""
    text = json.dumps(config or {}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class ModuleConfigs:
    """The configuration each loaded module runs, its version, where it came from, and
    how it changes."""

    def __init__(
        self,
        platform_config: PlatformConfig,
        modules: dict[str, BaseModule],
        initial: dict[str, dict[str, Any]],
    ) -> None:
        self._platform_config = platform_config
        self._modules = modules
        self.configs: dict[str, dict[str, Any]] = {
            name: dict(initial.get(name) or {}) for name in modules
        }
        self.versions: dict[str, int] = dict.fromkeys(modules, 0)
        self.file_configs = {name: dict(config) for name, config in self.configs.items()}
        self.file_hashes = {name: config_hash(config) for name, config in self.configs.items()}
        self.sources: dict[str, str] = dict.fromkeys(modules, "file")
        """Where each module's running config came from, for ``streamcore control status``."""
        self.catching_up = False
        """Set by the listener while it replays the topic at start (see the precedence rule)."""

    def apply(
        self, module: str, config_text: str, version: int, file_hash: str | None = None
    ) -> tuple[Outcome, str]:
        """Load ``config_text`` into ``module`` as ``version``; (outcome, what happened).
        ``file_hash``: the hash of the module's file the refresh was made over."""
        instance = self._modules.get(module)
        if instance is None:
            return Outcome.SKIPPED, f"module {module} is not loaded in this process"
        if version <= self.versions[module]:
            return Outcome.SKIPPED, f"module {module} already runs version {self.versions[module]}"
        if self.catching_up and file_hash and file_hash != self.file_hashes[module]:
            return Outcome.SKIPPED, (
                f"module {module}: its file changed since this refresh was sent (file "
                f"{self.file_hashes[module]}, refresh made over {file_hash}): the file wins"
            )
        try:
            config = parse_module_config(type(instance), config_text)
        except ModuleConfigError as exc:
            return self._refused(module, version, exc)
        try:
            _load(instance, self._platform_config, config)
        except Exception as exc:
            self._restore(module, instance)
            return self._refused(module, version, exc)
        self.configs[module] = config
        self.versions[module] = version
        self.sources[module] = f"control offset {version - 1}"
        instance.refresh.set()
        log.info("module %s runs config version %d", module, version)
        return Outcome.APPLIED, f"module {module} runs config version {version}"

    def reset(self, module: str, version: int) -> tuple[Outcome, str]:
        """Return ``module`` to its file's configuration (``reset_module_config``)."""
        instance = self._modules.get(module)
        if instance is None:
            return Outcome.SKIPPED, f"module {module} is not loaded in this process"
        if version <= self.versions[module]:
            return Outcome.SKIPPED, f"module {module} already runs version {self.versions[module]}"
        if self.sources[module] != "file":
            try:
                _load(instance, self._platform_config, self.file_configs[module])
            except Exception as exc:
                self._restore(module, instance)
                return self._refused(module, version, exc)
            instance.refresh.set()
        self.configs[module] = dict(self.file_configs[module])
        self.versions[module] = version
        self.sources[module] = f"file (reset at offset {version - 1})"
        log.info("module %s runs its file's config again (version %d)", module, version)
        return Outcome.APPLIED, f"module {module} runs its file's config (version {version})"

    def describe(self) -> str:
        """``module vN (source)`` for each module, as ``control status`` shows it."""
        return "; ".join(
            f"{name} v{self.versions[name]} ({self.sources[name]}, file {self.file_hashes[name]})"
            for name in sorted(self.versions)
        )

    def _refused(self, module: str, version: int, exc: Exception) -> tuple[Outcome, str]:
        log.error(
            "config version %d of module %s refused, version %d keeps running: %s",
            version,
            module,
            self.versions[module],
            exc,
        )
        return Outcome.FAILED, f"refused, version {self.versions[module]} keeps running: {exc}"

    def _restore(self, module: str, instance: BaseModule) -> None:
        try:
            _load(instance, self._platform_config, self.configs[module])
        except Exception:
            log.exception("module %s: restoring its previous config failed too", module)


def _load(instance: BaseModule, platform_config: PlatformConfig, config: dict[str, Any]) -> None:
    # A copy: a module that keeps and mutates its config must not change what we restore.
    instance.load_config(platform_config, copy.deepcopy(config))
