"""Links between entities in snapshot values: which entities to load, and wiring them up.

A link value is ``{"eid": ...}`` (DP³'s shape). While correlation hooks run, every link
that a hook path traverses (``used_links``) also carries ``"record"``: the linked entity's
own current values dict, the same object the linked entity's hooks see, so a hook on an
``ip`` reads ``values["domains"][0]["record"]["resolves_to"]`` and sees what the domain's
hooks wrote. ``detach`` removes the ``record`` fields again before the snapshot is saved.

With ``keep_empty`` (``snapshots.yml``, DP³'s default) a link to an entity that is not
stored gets the stub record ``{"eid": ...}``; without it such links are dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from streamcore.model.modelspec import ModelSpec
from streamcore.model.spec import AttrSpecClassic

EntityKey = tuple[str, Any]
LinkAttrs = dict[str, dict[str, str]]
"""entity type -> link attribute -> linked entity type, for the links hooks traverse."""


def link_attrs(model: ModelSpec, used_links: set[tuple[str, str]]) -> LinkAttrs:
    result: LinkAttrs = {}
    for etype, attr in sorted(used_links):
        spec = model.entity_attributes[etype][attr]
        assert isinstance(spec, AttrSpecClassic)
        result.setdefault(etype, {})[attr] = spec.relation_to
    return result


def _links(value: Any) -> list[dict[str, Any]]:
    """The link dicts in a link attribute's value (one, or a list of them, nested or not).

    A list, not a generator: this runs three times per linked value of every entity of a
    run (targets, attach, detach), and a generator per level cost more than the walk."""
    if isinstance(value, list):
        found = []
        for item in value:
            if isinstance(item, dict):
                if "eid" in item:
                    found.append(item)
            elif isinstance(item, list):
                found.extend(_links(item))
        return found
    if isinstance(value, dict) and "eid" in value:
        return [value]
    return []


def targets(links: LinkAttrs, etype: str, values: dict[str, Any]) -> Iterator[EntityKey]:
    """(entity type, eid) of every entity ``values`` links to through a used link."""
    for attr, target in links.get(etype, {}).items():
        for link in _links(values.get(attr)):
            yield target, link["eid"]


def attach(links: LinkAttrs, loaded: dict[EntityKey, dict[str, Any]], keep_empty: bool) -> None:
    """Give every used link in ``loaded`` a ``record`` (see the module docstring)."""
    for (etype, _), values in loaded.items():
        for attr, target in links.get(etype, {}).items():
            value = values.get(attr)
            if value is None:
                continue
            for link in _links(value):
                record = loaded.get((target, link["eid"]))
                if record is None and keep_empty:
                    record = {"eid": link["eid"]}
                if record is not None:
                    link["record"] = record
            if not keep_empty:
                _drop_missing(values, attr)


def _drop_missing(values: dict[str, Any], attr: str) -> None:
    value = values[attr]
    if isinstance(value, dict):
        if "record" not in value:
            del values[attr]
            values.pop(f"{attr}#c", None)
        return
    keep = [i for i, link in enumerate(value) if "record" in link]
    values[attr] = [value[i] for i in keep]
    confidences = values.get(f"{attr}#c")
    if isinstance(confidences, list):
        values[f"{attr}#c"] = [confidences[i] for i in keep]


def detach(links: LinkAttrs, etype: str, values: dict[str, Any]) -> None:
    """Remove the ``record`` fields ``attach`` added to ``values``."""
    for attr in links.get(etype, {}):
        for link in _links(values.get(attr)):
            link.pop("record", None)
