"""What a change of the entity model means for data already stored (pure).

``model_document`` reduces a model to what decides how stored values are read: per entity
type its id data type, per attribute its kind (plain, observations, timeseries) and data
type (series and their types for timeseries). ``setup`` stores that document; ``diff_models``
compares the stored one with a changed model and says, per change, what it needs:

- safe (nothing to do): a new entity type, a new attribute, a new timeseries series, and
  every setting that only governs new data (names, descriptions, history parameters, ...);
- unsafe (stored data becomes unreadable or orphaned): a removed entity type or attribute,
  a changed entity id type, attribute kind or data type, a removed or retyped series.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streamcore.model.modelspec import ModelSpec
from streamcore.model.spec import AttrSpecClassic, AttrSpecTimeseries

ModelDocument = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class ModelChange:
    """One difference between the stored model and a new one."""

    path: str
    what: str
    needs: str
    safe: bool

    def __str__(self) -> str:
        return f"{self.path}: {self.what}: {self.needs}"


def model_document(model: ModelSpec) -> ModelDocument:
    """The JSON-able description of ``model`` that ``diff_models`` compares."""
    document: ModelDocument = {}
    for etype, entity in sorted(model.entities.items()):
        attribs: dict[str, Any] = {}
        for attr, spec in sorted(model.entity_attributes[etype].items()):
            if isinstance(spec, AttrSpecTimeseries):
                series = {name: str(s.data_type) for name, s in sorted(spec.series.items())}
                attribs[attr] = {"type": spec.type, "series": series}
            elif isinstance(spec, AttrSpecClassic):
                attribs[attr] = {"type": spec.type, "data_type": str(spec.data_type)}
        document[etype] = {"id_data_type": str(entity.id_data_type), "attribs": attribs}
    return document


def diff_models(stored: ModelDocument, new: ModelDocument) -> list[ModelChange]:
    """Every change from ``stored`` to ``new``, unsafe ones first."""
    changes: list[ModelChange] = []
    for etype in sorted(stored.keys() | new.keys()):
        before, after = stored.get(etype), new.get(etype)
        if before is None:
            changes.append(ModelChange(etype, "new entity type", "nothing", safe=True))
        elif after is None:
            changes.append(
                ModelChange(
                    etype,
                    "entity type removed",
                    f"every stored {etype} entity (state and snapshots) becomes unreadable",
                    safe=False,
                )
            )
        else:
            changes.extend(_entity_changes(etype, before, after))
    return sorted(changes, key=lambda change: change.safe)


def _entity_changes(etype: str, before: dict[str, Any], after: dict[str, Any]) -> list[ModelChange]:
    changes = []
    if before["id_data_type"] != after["id_data_type"]:
        changes.append(
            ModelChange(
                f"{etype}.id_data_type",
                f"{before['id_data_type']} -> {after['id_data_type']}",
                f"stored {etype} ids were written as {before['id_data_type']}: every stored "
                f"{etype} entity becomes unreadable",
                safe=False,
            )
        )
    old_attrs, new_attrs = before["attribs"], after["attribs"]
    for attr in sorted(old_attrs.keys() | new_attrs.keys()):
        path = f"{etype}.{attr}"
        old, new = old_attrs.get(attr), new_attrs.get(attr)
        if old is None:
            changes.append(ModelChange(path, "new attribute", "nothing", safe=True))
        elif new is None:
            changes.append(
                ModelChange(
                    path,
                    "attribute removed",
                    f"the stored values of {path} become unreadable (kept, never read)",
                    safe=False,
                )
            )
        elif old["type"] != new["type"]:
            changes.append(
                ModelChange(
                    path,
                    f"kind {old['type']} -> {new['type']}",
                    f"the stored {old['type']} values of {path} become unreadable",
                    safe=False,
                )
            )
        elif old["type"] == "timeseries":
            changes.extend(_series_changes(path, old["series"], new["series"]))
        elif old["data_type"] != new["data_type"]:
            changes.append(
                ModelChange(
                    path,
                    f"data type {old['data_type']} -> {new['data_type']}",
                    f"the stored values of {path} (written as {old['data_type']}) become "
                    "unreadable",
                    safe=False,
                )
            )
    return changes


def _series_changes(path: str, old: dict[str, str], new: dict[str, str]) -> list[ModelChange]:
    changes = []
    for name in sorted(old.keys() | new.keys()):
        where = f"{path}.series.{name}"
        if name not in old:
            changes.append(ModelChange(where, "new series", "nothing", safe=True))
        elif name not in new or old[name] != new[name]:
            what = "series removed" if name not in new else f"{old[name]} -> {new[name]}"
            changes.append(
                ModelChange(
                    where, what, f"the stored chunks of {path} become unreadable", safe=False
                )
            )
    return changes
