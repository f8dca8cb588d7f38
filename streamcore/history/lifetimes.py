"""When an entity's lifetime is over (DP³'s ``lifetimes.md``); pure decisions, no I/O.

* ``immortal``: never;
* ``ttl``: when every one of its TTL tokens has expired (an entity without tokens is left
  alone, as in DP³);
* ``weak``: when no other entity links to it any more. A plain link counts for as long as
  it is stored; an observation link until ``t2 + post_validity`` (DP³'s link cache keeps
  it that long); read-only mirrors don't count, they are the reverse of a real link.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from streamcore.model.modelspec import ModelSpec
from streamcore.model.spec import (
    AttrSpecObservations,
    AttrSpecReadOnly,
    TimeToLiveLifetime,
    WeakLifetime,
)
from streamcore.state.links import link_eids
from streamcore.state.record import EntityRecord


def ttl_expired(record: EntityRecord, now: datetime) -> bool:
    """True when the record has TTL tokens and all of them are in the past."""
    return bool(record.ttl_tokens) and all(t < now for t in record.ttl_tokens.values())


def ttl_types(model: ModelSpec) -> list[str]:
    return [
        e for e, spec in model.entities.items() if isinstance(spec.lifetime, TimeToLiveLifetime)
    ]


def weak_types(model: ModelSpec) -> list[str]:
    return [e for e, spec in model.entities.items() if isinstance(spec.lifetime, WeakLifetime)]


def referrers(model: ModelSpec, target: str) -> dict[str, list[str]]:
    """Entity type -> its link attributes pointing at ``target`` (mirrors left out)."""
    found: dict[str, list[str]] = {}
    for (etype, attr), spec in model.relations.items():
        if spec.relation_to == target and not isinstance(spec, AttrSpecReadOnly):
            found.setdefault(etype, []).append(attr)
    return found


def linked_eids(
    record: EntityRecord, attrs: Iterable[str], model: ModelSpec, now: datetime
) -> set[Any]:
    """The entity ids ``record`` links to through ``attrs``, counting live links only."""
    specs = model.entity_attributes[record.etype]
    targets: set[Any] = set()
    for attr in attrs:
        spec = specs[attr]
        post = spec.history_params.post_validity if isinstance(spec, AttrSpecObservations) else None
        for row in record.attrs.get(attr, {}).values():
            if post is not None and row.t2 is not None and row.t2 + post < now:
                continue
            targets.update(link_eids(row.value))
    return targets
