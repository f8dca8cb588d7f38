"""``ModelSpec``: all entity types and attributes of an application, checked as a whole.

Built from the parsed ``db_entities`` files by ``build_model_spec``, which reports every
problem it finds (file and key path) instead of stopping at the first one. Once built, it
holds one compiled validator per attribute; ``validate_task`` is the hot path.
"""

from __future__ import annotations

import reprlib
from collections.abc import ItemsView, KeysView, Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from streamcore.errors import ConfigError, ConfigProblem, InvalidDataPointError
from streamcore.model.datapoint import DataPointTask, platform_task
from streamcore.model.datatypes import DataType, Kind, parse_data_type
from streamcore.model.primitives import check_window, parse_time
from streamcore.model.spec import (
    AttrSpecClassic,
    AttrSpecReadOnly,
    AttrSpecType,
    EntitySpec,
)
from streamcore.model.suggest import did_you_mean
from streamcore.model.validate import AnyAttrSpec, DataPointCheck, compile_check
from streamcore.model.values import Parser, eid_parser

_ATTR_ADAPTER: TypeAdapter[AnyAttrSpec] = TypeAdapter(AttrSpecType)


class ModelSpec:
    """The entity model. Attribute names mirror DP³'s ``ModelSpec``.

    Attributes:
        entities: entity type -> ``EntitySpec``
        attributes: (entity type, attribute) -> attribute spec
        entity_attributes: entity type -> attribute -> attribute spec
        relations: (entity type, attribute) -> spec, only link attributes
    """

    def __init__(
        self,
        entities: Mapping[str, Any],
        attribs: Mapping[str, Mapping[str, AnyAttrSpec]] | None = None,
    ) -> None:
        """Assemble a model from specs already checked by ``build_model_spec``.

        ``ModelSpec(config)`` (one argument: the ``db_entities`` files, label -> ``{entity,
        attribs}``) is DP³'s constructor: the files are checked first and a ``ValueError``
        lists every problem, as DP³'s pydantic model raises one.
        """
        if attribs is None:
            try:
                entities, attribs = _check_files(entities)
            except ConfigError as exc:
                raise ValueError(str(exc)) from exc
        self.entities: dict[str, EntitySpec] = dict(entities)
        self.entity_attributes: dict[str, dict[str, AnyAttrSpec]] = {
            etype: dict(attribs.get(etype, {})) for etype in self.entities
        }
        _add_mirrors(self.entity_attributes)
        self.attributes: dict[tuple[str, str], AnyAttrSpec] = {
            (etype, attr): spec
            for etype, specs in self.entity_attributes.items()
            for attr, spec in specs.items()
        }
        self.relations = {
            key: spec
            for key, spec in self.attributes.items()
            if isinstance(spec, AttrSpecClassic) and spec.is_relation
        }
        self.config = {
            etype: {"entity": self.entities[etype], "attribs": self.entity_attributes[etype]}
            for etype in self.entities
        }
        self._eid_parsers: dict[str, Parser] = {
            etype: eid_parser(spec.id_data_type.root) for etype, spec in self.entities.items()
        }
        self._checks: dict[str, dict[str, DataPointCheck]] = {
            etype: {attr: compile_check(spec, self._eid_parsers) for attr, spec in specs.items()}
            for etype, specs in self.entity_attributes.items()
        }

    # DP³-compatible accessors
    def attr(self, entity_type: str, attr: str) -> AnyAttrSpec:
        return self.attributes[entity_type, attr]

    def attribs(self, entity_type: str) -> dict[str, AnyAttrSpec]:
        return self.entity_attributes[entity_type]

    def entity(self, entity_type: str) -> EntitySpec:
        return self.entities[entity_type]

    def items(self) -> ItemsView[str, dict[str, Any]]:
        return self.config.items()

    def keys(self) -> KeysView[str]:
        return self.config.keys()

    def __contains__(self, entity_type: object) -> bool:
        return entity_type in self.entities

    def __getitem__(self, entity_type: str) -> dict[str, Any]:
        return self.config[entity_type]

    def __repr__(self) -> str:
        return f"ModelSpec({','.join(self.entities)})"

    def parse_eid(self, entity_type: str, eid: Any) -> Any:
        """The canonical entity id (``ValueError`` if it does not fit the id data type)."""
        return self._eid_parsers[entity_type](eid)

    def validate_task(self, task: DataPointTask) -> DataPointTask:
        """Check ``task`` against the model and normalize it in place; returns it.

        Raises ``InvalidDataPointError`` naming entity, attribute, value and rule. The
        task is either wholly valid or rejected, so a caller never sends part of it.
        """
        etype = task.etype
        checks = self._checks.get(etype)
        if checks is None:
            raise InvalidDataPointError(
                f"unknown entity type {short_repr(etype)}" + did_you_mean(str(etype), self.entities)
            )
        raw_eid = task.eid
        try:
            eid = self._eid_parsers[etype](raw_eid)
        except ValueError as exc:
            raise InvalidDataPointError(f"{etype} id {short_repr(raw_eid)}: {exc}") from None
        task.eid = eid
        for dp in task.data_points:
            if dp.etype != etype:
                if dp.etype is not None:
                    raise InvalidDataPointError(
                        f"{etype} {eid}: data-point of entity type {short_repr(dp.etype)} "
                        "in this task"
                    )
                dp.etype = etype
            if (
                dp.eid is not eid
                and dp.eid is not raw_eid
                and dp.eid is not None
                and dp.eid != eid
                and not self._same_eid(etype, dp.eid, eid)
            ):
                raise InvalidDataPointError(
                    f"{etype} {eid}: data-point of entity id {short_repr(dp.eid)} in this task"
                )
            dp.eid = eid
            check = checks.get(dp.attr)
            if check is None:
                raise InvalidDataPointError(
                    f"{etype} {eid}: unknown attribute {short_repr(dp.attr)}"
                    + did_you_mean(str(dp.attr), checks)
                )
            value = dp.v
            try:
                check(dp)
            except ValueError as exc:
                raise InvalidDataPointError(
                    f"{etype} {eid}, attribute {dp.attr!r}, value {short_repr(value)}: {exc}"
                ) from None
        self._validate_extras(task)
        return task

    def _same_eid(self, etype: str, given: Any, eid: Any) -> bool:
        try:
            return bool(self._eid_parsers[etype](given) == eid)
        except ValueError:
            return False

    def _validate_extras(self, task: DataPointTask) -> None:
        tags, plain = task.tags, task.ttl_tokens is None and task.delete is False
        if plain and type(tags) is list and not tags and task.data_points:
            return  # the common task: nothing more to check (and no message to format)
        where = f"{task.etype} {task.eid}"
        if task.ttl_tokens is not None:
            if not isinstance(task.ttl_tokens, dict):
                raise InvalidDataPointError(f"{where}: ttl_tokens must be an object")
            try:
                task.ttl_tokens = {
                    str(name): check_window(f"token {short_repr(name)}", parse_time(when))
                    for name, when in task.ttl_tokens.items()
                }
            except ValueError as exc:
                raise InvalidDataPointError(f"{where}: ttl_tokens: {exc}") from None
        given: Any = task.tags  # untrusted: typed loosely, so compiled code checks nothing
        if not isinstance(given, list) or not all(type(t) is str for t in given):
            raise InvalidDataPointError(f"{where}: tags must be a list of strings")
        if type(task.delete) is not bool:
            raise InvalidDataPointError(f"{where}: delete must be true or false")
        empty = not task.data_points and not task.ttl_tokens and not task.delete
        if empty and platform_task(task) is None:
            raise InvalidDataPointError(
                f"{where}: a task needs data-points, ttl_tokens or delete=true"
            )


_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxstring = _SHORT_REPR.maxother = 120


def short_repr(value: Any) -> str:
    """The value for an error message, cut short: a rejected value may be huge, and the
    message travels in a dead letter next to the original bytes."""
    return _SHORT_REPR.repr(value)


def _add_mirrors(attribs: dict[str, dict[str, AnyAttrSpec]]) -> None:
    """Define the read-only attribute each mirrored link implies on its target entity."""
    for etype, specs in list(attribs.items()):
        for attr, spec in list(specs.items()):
            if isinstance(spec, AttrSpecClassic) and spec.is_mirrored and spec.mirror_as:
                attribs[spec.relation_to][spec.mirror_as] = AttrSpecReadOnly(
                    id=spec.mirror_as,
                    name=spec.mirror_as,
                    type="plain",
                    data_type=parse_data_type(f"set<link<{etype}>>"),
                    description=f"Read-only mirror of {etype}.{attr}",
                )


def build_model_spec(files: Mapping[str, Any]) -> ModelSpec:
    """Check entity files (label -> parsed YAML) and build the model.

    Raises ``ConfigError`` listing every problem: bad keys and values per attribute,
    duplicate entity types, links to unknown entity types, clashing mirror attributes.
    """
    return ModelSpec(*_check_files(files))


def _check_files(
    files: Mapping[str, Any],
) -> tuple[dict[str, EntitySpec], dict[str, dict[str, AnyAttrSpec]]]:
    problems: list[ConfigProblem] = []
    entities: dict[str, EntitySpec] = {}
    attribs: dict[str, dict[str, AnyAttrSpec]] = {}
    origin: dict[str, str] = {}
    for label, content in files.items():
        if not isinstance(content, dict):
            problems.append(
                ConfigProblem(label, "", "expected a mapping with 'entity' and 'attribs'")
            )
            continue
        for key in content.keys() - {"entity", "attribs"}:
            problems.append(
                ConfigProblem(label, str(key), "unknown key (expected 'entity' and 'attribs')")
            )
        entity = _entity(label, content.get("entity"), problems)
        specs = _attributes(label, content.get("attribs"), problems)
        if entity is None:
            continue
        if entity.id in entities:
            problems.append(
                ConfigProblem(
                    label,
                    "entity.id",
                    f"entity type '{entity.id}' is also defined in {origin[entity.id]}",
                )
            )
            continue
        entities[entity.id] = entity
        attribs[entity.id] = specs
        origin[entity.id] = label
    _check_links(entities, attribs, origin, problems)
    if problems:
        raise ConfigError(problems)
    return entities, attribs


def _entity(label: str, raw: Any, problems: list[ConfigProblem]) -> EntitySpec | None:
    if raw is None:
        problems.append(ConfigProblem(label, "entity", "missing"))
        return None
    try:
        return EntitySpec.model_validate(raw)
    except ValidationError as exc:
        problems.extend(pydantic_problems(label, "entity", exc))
        return None


def _attributes(label: str, raw: Any, problems: list[ConfigProblem]) -> dict[str, AnyAttrSpec]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(
            ConfigProblem(label, "attribs", "expected a mapping of attribute id -> spec")
        )
        return {}
    specs: dict[str, AnyAttrSpec] = {}
    for attr, spec in raw.items():
        path = f"attribs.{attr}"
        if not isinstance(spec, dict):
            problems.append(ConfigProblem(label, path, "expected a mapping"))
            continue
        try:
            specs[attr] = _ATTR_ADAPTER.validate_python({**spec, "id": attr})
        except ValidationError as exc:
            problems.extend(pydantic_problems(label, path, exc, skip_tag=True))
    return specs


def _check_links(
    entities: dict[str, EntitySpec],
    attribs: dict[str, dict[str, AnyAttrSpec]],
    origin: dict[str, str],
    problems: list[ConfigProblem],
) -> None:
    mirrors: dict[tuple[str, str], str] = {}
    for etype, specs in attribs.items():
        for attr, spec in specs.items():
            for path, data_type in _data_types(spec):
                for target in _link_targets(data_type):
                    if target not in entities:
                        problems.append(
                            ConfigProblem(
                                origin[etype],
                                f"attribs.{attr}.{path}",
                                f"links to unknown entity type '{target}'",
                            )
                        )
            if not (isinstance(spec, AttrSpecClassic) and spec.is_mirrored and spec.mirror_as):
                continue
            target, mirror = spec.relation_to, spec.mirror_as
            where = (origin[etype], f"attribs.{attr}.data_type")
            if target in attribs and mirror in attribs[target]:
                problems.append(
                    ConfigProblem(
                        *where,
                        f"mirror attribute '{target}.{mirror}' is defined in the configuration; "
                        "mirrors are implicit, remove it",
                    )
                )
            elif (target, mirror) in mirrors:
                problems.append(
                    ConfigProblem(
                        *where,
                        f"mirror '{target}.{mirror}' is also created by {mirrors[target, mirror]}",
                    )
                )
            mirrors[target, mirror] = f"{etype}.{attr}"


def _data_types(spec: AnyAttrSpec) -> list[tuple[str, DataType]]:
    if isinstance(spec, AttrSpecClassic):
        return [("data_type", spec.data_type)]
    return []


def _link_targets(data_type: DataType) -> list[str]:
    if data_type.kind is Kind.LINK:
        nested = _link_targets(data_type.link_data) if data_type.link_data else []
        return [data_type.get_linked_entity(), *nested]
    if data_type.elem is not None:
        return _link_targets(data_type.elem)
    return []


def pydantic_problems(
    label: str, prefix: str, exc: ValidationError, *, skip_tag: bool = False
) -> list[ConfigProblem]:
    """One ``ConfigProblem`` per pydantic error, with the key path joined by dots."""
    problems = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        if skip_tag and loc and loc[0] in ("plain", "observations", "timeseries"):
            loc = loc[1:]  # the discriminator tag pydantic puts first
        path = ".".join([prefix, *loc]) if prefix else ".".join(loc)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            tag = (error.get("ctx") or {}).get("tag")
            path = f"{path}.type"
            message = (
                f"'{tag}' is not one of plain, observations, timeseries"
                if error["type"] == "union_tag_invalid"
                else "missing (plain, observations or timeseries)"
            )
        problems.append(ConfigProblem(label, path, message))
    return problems
