"""Reading a DP³ configuration directory, reporting every problem at once.

Layout (DP³'s): ``db_entities/*.yml`` (entity types, required), ``processing_core.yml``,
``snapshots.yml``, ``history_manager.yml``, ``updater.yml``, ``control.yml`` (optional, with
defaults) and ``modules/<module>.yml`` (free-form, handed to each module). Other ``.yml``
files are kept in the raw config, as DP³ does. Problems are collected per file and key path,
and ``ConfigError`` lists them all, so one run of ``check-config`` shows everything to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from streamcore.config.platform import HierarchicalDict, PlatformConfig
from streamcore.config.sections import (
    SECTIONS,
    ControlConfig,
    HistoryManagerConfig,
    ProcessingCoreConfig,
    SnapshotsConfig,
    UpdaterConfig,
)
from streamcore.errors import ConfigError, ConfigProblem
from streamcore.model.modelspec import ModelSpec, build_model_spec, pydantic_problems
from streamcore.model.suggest import did_you_mean


@dataclass(frozen=True)
class AppConfig:
    """The whole configuration directory, parsed and checked."""

    base_path: Path
    model_spec: ModelSpec
    processing_core: ProcessingCoreConfig
    snapshots: SnapshotsConfig
    history_manager: HistoryManagerConfig
    updater: UpdaterConfig
    control: ControlConfig
    modules: dict[str, dict[str, Any]]
    raw: HierarchicalDict

    def platform_config(self, app_name: str, process_index: int = 0) -> PlatformConfig:
        """The ``PlatformConfig`` handed to modules of worker ``process_index``."""
        return PlatformConfig(
            app_name=app_name,
            config_base_path=str(self.base_path),
            config=self.raw,
            model_spec=self.model_spec,
            num_processes=self.processing_core.worker_processes,
            process_index=process_index,
        )


def load_config(directory: str | Path) -> AppConfig:
    """Parse and check ``directory``; ``ConfigError`` lists every problem found."""
    base = Path(directory)
    if not base.is_dir():
        raise ConfigError([ConfigProblem(str(base), "", "not a directory")])
    problems: list[ConfigProblem] = []
    raw = HierarchicalDict()
    for path in sorted(base.glob("*.yml")):
        raw[path.stem] = _read_yaml(path, base, problems)
    entity_files = {
        _label(path, base): _read_yaml(path, base, problems)
        for path in sorted((base / "db_entities").glob("*.yml"))
    }
    raw["db_entities"] = {Path(label).stem: content for label, content in entity_files.items()}
    if not entity_files:
        problems.append(ConfigProblem("db_entities/", "", "no entity files (*.yml) found"))
    modules = _modules(base, problems)
    raw["modules"] = modules
    sections = {
        name: _section(name, cls, raw.get(name, None), problems) for name, cls in SECTIONS.items()
    }
    model_spec = None
    try:
        model_spec = build_model_spec({k: v for k, v in entity_files.items() if v is not _BAD})
    except ConfigError as exc:
        problems.extend(exc.problems)
    core = sections["processing_core"]
    if isinstance(core, ProcessingCoreConfig):
        _check_modules(base, core, problems)
    if problems or model_spec is None:
        raise ConfigError(problems)
    return AppConfig(
        base_path=base,
        model_spec=model_spec,
        processing_core=sections["processing_core"],
        snapshots=sections["snapshots"],
        history_manager=sections["history_manager"],
        updater=sections["updater"],
        control=sections["control"],
        modules=modules,
        raw=raw,
    )


_BAD: Any = object()  # marks a file that could not be read (its problem is already listed)


def _label(path: Path, base: Path) -> str:
    return str(path.relative_to(base))


def _read_yaml(path: Path, base: Path, problems: list[ConfigProblem]) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problems.append(ConfigProblem(_label(path, base), where, f"invalid YAML: {exc}"))
    except OSError as exc:
        problems.append(ConfigProblem(_label(path, base), "", f"can't read: {exc}"))
    return _BAD


def _section(name: str, cls: type[Any], content: Any, problems: list[ConfigProblem]) -> Any:
    label = f"{name}.yml"
    if content is _BAD:
        return None
    if content is None:
        content = {}
    if not isinstance(content, dict):
        problems.append(ConfigProblem(label, "", "expected a mapping"))
        return None
    try:
        return cls.model_validate(content)
    except ValidationError as exc:
        problems.extend(pydantic_problems(label, "", exc))
        return None


def _modules(base: Path, problems: list[ConfigProblem]) -> dict[str, dict[str, Any]]:
    modules: dict[str, dict[str, Any]] = {}
    for path in sorted((base / "modules").glob("*.yml")):
        content = _read_yaml(path, base, problems)
        if content is _BAD:
            continue
        if content is None:
            content = {}
        if not isinstance(content, dict):
            problems.append(ConfigProblem(_label(path, base), "", "expected a mapping"))
            continue
        modules[path.stem] = content
    return modules


def missing_modules_dir(config: AppConfig) -> ConfigProblem | None:
    """A warning when modules are enabled but ``modules_dir`` does not exist here."""
    core = config.processing_core
    modules_dir = (config.base_path / core.modules_dir).resolve()
    if not core.enabled_modules or modules_dir.is_dir():
        return None
    return ConfigProblem(
        "processing_core.yml",
        "modules_dir",
        f"directory {modules_dir} does not exist here: modules not checked; a worker "
        "started with this configuration fails unless it exists there",
    )


def _check_modules(base: Path, core: ProcessingCoreConfig, problems: list[ConfigProblem]) -> None:
    """Enabled modules must exist in ``modules_dir`` (relative to the config directory),
    when that directory exists."""
    if not core.enabled_modules:
        return
    modules_dir = (base / core.modules_dir).resolve()
    if not modules_dir.is_dir():
        # As ``dp3 check``: the directory may exist only where workers run (an image, a
        # mount); ``check-config`` warns (``missing_modules_dir``), a worker fails to load.
        return
    present = [p.stem for p in modules_dir.glob("*.py")] + [
        p.parent.name for p in modules_dir.glob("*/__init__.py")
    ]
    for index, name in enumerate(core.enabled_modules):
        if name not in present:
            problems.append(
                ConfigProblem(
                    "processing_core.yml",
                    f"enabled_modules.{index}",
                    f"module '{name}' not found in {modules_dir}" + did_you_mean(name, present),
                )
            )
