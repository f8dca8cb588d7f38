"""``check-config``'s dry run of the enabled modules: import, construct, register hooks.

The same steps as a worker's start-up (``loader``), against the real ``CallbackRegistrar``
and the parsed model, so a syntax error, an import error, a constructor that raises or a hook
registered on an attribute the model lacks is reported before any process runs, as
``file:line: message`` pointing into the module's own code. ``start()`` is not called (it
may open connections); nothing is sent or stored. Every module is tried, so one run lists
every broken module.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path

from streamcore.config import AppConfig
from streamcore.errors import ConfigProblem, ModuleLoadError
from streamcore.module.compat import install_dp3_compat
from streamcore.module.loader import construct, find_module_class, import_module_file
from streamcore.module.registrar import CallbackRegistrar


def dry_run_modules(
    config: AppConfig, app_name: str, *, dp3_compat: bool = False
) -> list[ConfigProblem]:
    """Problems found loading ``config``'s enabled modules (none: they would start)."""
    if dp3_compat:
        install_dp3_compat()
    core = config.processing_core
    modules_dir = (config.base_path / core.modules_dir).resolve()
    platform = config.platform_config(app_name)
    registrar = CallbackRegistrar(config.model_spec, config.updater.update_batch_period)
    problems = []
    for name in core.enabled_modules:
        try:
            module = import_module_file(name, modules_dir)
            module_class = find_module_class(name, module)
            construct(module_class, name, platform, config.modules.get(name), registrar)
        except ModuleLoadError as exc:
            problems.append(located(exc, modules_dir))
    return problems


def located(error: ModuleLoadError, modules_dir: Path) -> ConfigProblem:
    """``error`` as a problem at the line of the module's code that caused it: a syntax
    error's own line, else the innermost frame of the traceback inside ``modules_dir``."""
    cause = error.__cause__
    if isinstance(cause, SyntaxError) and cause.filename:
        detail = f"syntax error: {cause.msg}"
        return ConfigProblem(f"{_shown(cause.filename)}:{cause.lineno or 0}", "", detail)
    if cause is not None:
        inside = [
            frame
            for frame in traceback.extract_tb(cause.__traceback__)
            if Path(frame.filename).resolve().is_relative_to(modules_dir)
        ]
        if inside:
            frame = inside[-1]
            return ConfigProblem(f"{_shown(frame.filename)}:{frame.lineno}", "", str(error))
    return ConfigProblem(_shown(str(modules_dir)), "", str(error))


def _shown(path: str) -> str:
    """Relative to the working directory when under it (as an editor jumps to it)."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative
