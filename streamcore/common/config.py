"""``dp3.common.config``: reading DP³ configuration files, and the platform/model objects.

``read_config``/``read_config_dir`` are DP³'s (a ``HierarchicalDict`` per file, keyed by file
name without ``.yml``; empty files skipped). ``ModelSpec(config)`` is DP³'s constructor too
(``ValueError`` on a bad model). ``HierarchicalDict`` is streamcore's own class, which has
DP³'s semantics: deep ``update``, ``MissingConfigError`` for a missing key without default.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from streamcore.config import CronExpression, PlatformConfig
from streamcore.config.platform import HierarchicalDict, MissingConfigError, NoDefault
from streamcore.model.modelspec import ModelSpec
from streamcore.model.spec import AttrSpecType, EntitySpec

CRON_EXPR_PATTERN = r"^((\d+,)+\d+|(\d+-\d+)|\d+|(\*\/\d+)|\*)$"
CronStr = Annotated[str, Field(pattern=CRON_EXPR_PATTERN)]
TimeInt = Annotated[int, Field(ge=0, le=59)]


def read_config(filepath: str) -> HierarchicalDict:
    """One YAML file as a ``HierarchicalDict`` (``TypeError`` if it is empty, as DP³)."""
    with open(filepath, encoding="utf-8") as handle:
        return HierarchicalDict(yaml.safe_load(handle))


def read_config_dir(dir_path: str, recursive: bool = False) -> HierarchicalDict:
    """Every ``*.yml`` of ``dir_path`` under its name without ``.yml``; subdirectories too
    (under their names) when ``recursive``. Empty files are left out."""
    config = HierarchicalDict()
    for name in os.listdir(dir_path):
        path = os.path.join(dir_path, name)
        if os.path.isdir(path) and recursive:
            config[name] = read_config_dir(path, recursive)
        elif os.path.isfile(path) and name.endswith(".yml"):
            try:
                config[name[:-4]] = read_config(path)
            except TypeError:
                continue
    return config


class EntitySpecDict(BaseModel):
    """One entity type's specification: its ``entity`` and ``attribs``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    entity: EntitySpec
    attribs: dict[str, AttrSpecType]

    def __getitem__(self, item: str) -> Any:
        return getattr(self, item)


_entity_types: ContextVar[dict[str, str] | None] = ContextVar("dp3_entity_types", default=None)


@contextmanager
def entity_type_context(model_spec: ModelSpec) -> Iterator[None]:
    """Make the entity types' id data types available to ``get_entity_type_context``."""
    token = _entity_types.set(
        {etype: spec.id_data_type.root for etype, spec in model_spec.entities.items()}
    )
    try:
        yield
    finally:
        _entity_types.reset(token)


def get_entity_type_context() -> dict[str, str]:
    """Entity type -> id data type, inside ``entity_type_context``; ``ValueError`` outside."""
    context = _entity_types.get()
    if context is None:
        raise ValueError("Entity type context is not set")
    return context


__all__ = [
    "CRON_EXPR_PATTERN",
    "CronExpression",
    "CronStr",
    "EntitySpecDict",
    "HierarchicalDict",
    "MissingConfigError",
    "ModelSpec",
    "NoDefault",
    "PlatformConfig",
    "TimeInt",
    "entity_type_context",
    "get_entity_type_context",
    "read_config",
    "read_config_dir",
]
