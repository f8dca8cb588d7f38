"""Loading the enabled modules of an application, once per worker process, at start-up.

``load_modules(platform_config)`` reads ``processing_core.yml``'s ``modules_dir`` (relative
to the configuration directory) and ``enabled_modules``, and for each name, in order:

1. imports ``<modules_dir>/<name>.py`` (or ``<name>/__init__.py``) by its path, as
   ``streamcore_modules.<name>``; ``sys.path`` is left alone, so a module imports its own
   helpers as a package (``<name>/__init__.py`` + relative imports), not as siblings;
2. finds the ``BaseModule`` subclass defined in that file (classes imported into it don't
   count; of a class hierarchy defined there, the most derived one);
3. constructs it with the ``PlatformConfig``, its ``modules/<name>.yml`` (``{}`` if none)
   and the shared ``CallbackRegistrar``; its registrations are attributed to ``name``.

Any failure (file missing, import error, no or several candidate classes, a constructor or
a registration that raises, e.g. a duplicate hook) stops start-up with a ``ModuleLoadError``
naming the module and the cause. ``start_modules``/``stop_modules`` then run the modules'
``start``/``stop`` around the worker's lifetime.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import types
from pathlib import Path
from typing import Any, NamedTuple

from streamcore.config.platform import PlatformConfig
from streamcore.config.sections import ProcessingCoreConfig, UpdaterConfig
from streamcore.errors import ModuleLoadError
from streamcore.module.base import BaseModule
from streamcore.module.compat import install_dp3_compat
from streamcore.module.registrar import CallbackRegistrar

log = logging.getLogger(__name__)

PACKAGE = "streamcore_modules"
"""The package enabled modules are imported under (``streamcore_modules.<name>``)."""


class LoadedModules(NamedTuple):
    """The registrar holding every registration, and the modules by name, in load order."""

    registrar: CallbackRegistrar
    modules: dict[str, BaseModule]


def load_modules(platform_config: PlatformConfig, *, dp3_compat: bool = False) -> LoadedModules:
    """Import and construct the enabled modules; ``ModuleLoadError`` on the first failure.

    ``dp3_compat`` first installs the DP³ import compatibility (``compat``), so unchanged
    DP³ modules importing ``dp3.common.*`` load too, and makes the application's model the
    one their ``DataPointTask``s are validated against.
    """
    if dp3_compat:
        install_dp3_compat()
        from streamcore.common.task import use_model_spec

        # DP³ validates every task a module builds; outside task_context, against this.
        use_model_spec(platform_config.model_spec)
    raw = platform_config.config
    core = ProcessingCoreConfig.model_validate(raw.get("processing_core", None) or {})
    updater = UpdaterConfig.model_validate(raw.get("updater", None) or {})
    registrar = CallbackRegistrar(platform_config.model_spec, updater.update_batch_period)
    modules_dir = Path(platform_config.config_base_path) / core.modules_dir
    configs: dict[str, Any] = raw.get("modules", None) or {}
    modules: dict[str, BaseModule] = {}
    for name in core.enabled_modules:
        module_class = find_module_class(name, import_module_file(name, modules_dir))
        modules[name] = construct(module_class, name, platform_config, configs.get(name), registrar)
    log.info("Loaded modules: %s", ", ".join(modules) or "(none)")
    return LoadedModules(registrar, modules)


def import_module_file(name: str, modules_dir: Path) -> types.ModuleType:
    """Import module ``name`` from ``modules_dir`` by path (a ``.py`` file or a package)."""
    path = modules_dir / f"{name}.py"
    package = modules_dir / name / "__init__.py"
    locations = None
    if not path.is_file():
        if not package.is_file():
            raise ModuleLoadError(f"module '{name}': neither {path} nor {package} exists")
        path, locations = package, [str(package.parent)]
    qualified = f"{PACKAGE}.{name}"
    spec = importlib.util.spec_from_file_location(
        qualified, path, submodule_search_locations=locations
    )
    if spec is None or spec.loader is None:
        raise ModuleLoadError(f"module '{name}': {path} can't be imported")
    if PACKAGE not in sys.modules:
        parent = types.ModuleType(PACKAGE, "Modules loaded by streamcore, by name.")
        parent.__path__ = []
        sys.modules[PACKAGE] = parent
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[qualified]
        raise ModuleLoadError(f"module '{name}': import of {path} failed: {_cause(exc)}") from exc
    return module


def find_module_class(name: str, module: types.ModuleType) -> type[BaseModule]:
    """The ``BaseModule`` subclass defined in ``module`` (the most derived, if several)."""
    defined = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, BaseModule)
        and obj is not BaseModule
        and obj.__module__ == module.__name__
    ]
    leaves = [
        cls for cls in defined if not any(o is not cls and issubclass(o, cls) for o in defined)
    ]
    if not leaves:
        raise ModuleLoadError(f"module '{name}': no subclass of BaseModule is defined in it")
    if len(leaves) > 1:
        names = ", ".join(sorted(cls.__name__ for cls in leaves))
        raise ModuleLoadError(f"module '{name}': several BaseModule subclasses ({names})")
    return leaves[0]


def construct(
    module_class: type[BaseModule],
    name: str,
    platform_config: PlatformConfig,
    module_config: dict[str, Any] | None,
    registrar: CallbackRegistrar,
) -> BaseModule:
    """Construct one module, attributing its registrations to ``name``."""
    try:
        with registrar.module_scope(name):
            return module_class(platform_config, dict(module_config or {}), registrar)
    except Exception as exc:
        raise ModuleLoadError(
            f"module '{name}': {module_class.__name__} failed to start: {_cause(exc)}"
        ) from exc


def start_modules(modules: dict[str, BaseModule]) -> None:
    """Call every module's ``start()`` in load order; a failure stops start-up."""
    for name, module in modules.items():
        try:
            module.start()
        except Exception as exc:
            raise ModuleLoadError(f"module '{name}': start() failed: {_cause(exc)}") from exc


def stop_modules(modules: dict[str, BaseModule]) -> None:
    """Call every module's ``stop()`` in reverse load order; failures are logged, so
    each module gets its chance to stop."""
    for name, module in reversed(modules.items()):
        try:
            module.stop()
        except Exception:
            log.exception("Module %s: stop() failed", name)


def _cause(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
