"""Links between entities kept in step with deletes (DP³'s ``LinkManager``); pure, no I/O.

DP³ keeps a link cache (who links to whom, through which attribute; an observation link
until ``t2 + post_validity``) and, when an entity is deleted, removes the link data-points
pointing at it from the linking entities' master records; its snapshots add each mirrored
link (``link<type; mirror=name>``) to the target from the same cache.

streamcore keeps the cache as the ``entity_links_to`` table (``schema.py``), one partition
per linked-to entity, written by the store with the linking entity's state. A delete goes
through the input topic like any change: the worker deleting X reads X's partition of the
table and derives one *unlink task* per linking entity (``unlink_task``), routed to the
worker owning that entity, which removes the rows linking to X (``remove_links``) with its
other tasks, in order. An unlink task runs no hooks: DP³'s link removal is a database
update that no hook sees.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from streamcore.model.datapoint import UNLINK_TAG, DataPointTask, Link, platform_task
from streamcore.model.modelspec import ModelSpec
from streamcore.model.spec import AttrSpecObservations, AttrSpecReadOnly
from streamcore.state.encoding import eid_text
from streamcore.state.merge import shift
from streamcore.state.record import EntityRecord, Row

LinkTarget = tuple[str, str, str]
"""(link attribute, linked entity type, linked entity's stored id)."""


def link_eids(value: Any) -> Iterator[Any]:
    """The entity ids a link attribute's value points at (one link or a list of them)."""
    if isinstance(value, Link):
        yield value.eid
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            if isinstance(item, Link):
                yield item.eid


class LinkAttrs:
    """Per entity type, its link attributes (mirrors left out: the platform fills them)
    with the linked type and, for observations, ``post_validity``."""

    def __init__(self, model: ModelSpec) -> None:
        self.of: dict[str, dict[str, tuple[str, timedelta | None]]] = {}
        """linking type -> link attribute -> (linked type, post_validity of observations)."""
        self.mirrors: dict[str, dict[str, tuple[str, str]]] = {}
        """linked type -> mirror attribute -> (linking type, link attribute)."""
        for (etype, attr), spec in model.relations.items():
            if isinstance(spec, AttrSpecReadOnly):
                continue
            post = None
            if isinstance(spec, AttrSpecObservations):
                post = spec.history_params.post_validity
            self.of.setdefault(etype, {})[attr] = (spec.relation_to, post)
            if spec.is_mirrored and spec.mirror_as:
                self.mirrors.setdefault(spec.relation_to, {})[spec.mirror_as] = (etype, attr)

    def targets(
        self, record: EntityRecord, attrs: Iterable[str] | None = None
    ) -> dict[LinkTarget, datetime | None]:
        """What ``record`` links to through ``attrs`` (all its link attributes when None),
        each with when the link lapses (None: while stored), the latest of its rows."""
        links = self.of.get(record.etype, {})
        found: dict[LinkTarget, datetime | None] = {}
        for attr in links if attrs is None else attrs:
            if attr not in links:
                continue
            target, post = links[attr]
            for row in record.attrs.get(attr, {}).values():
                lapses = _lapses(row, post)
                for eid in link_eids(row.value):
                    where = (attr, target, eid_text(eid))
                    if where not in found:
                        found[where] = lapses
                        continue
                    known = found[where]
                    if known is not None and (lapses is None or lapses > known):
                        found[where] = lapses
        return found


def _lapses(row: Row, post: timedelta | None) -> datetime | None:
    if post is None or row.t2 is None:
        return None
    return shift(row.t2, post)


def unlink_task(source_etype: str, source_eid: Any, target: LinkTarget) -> DataPointTask:
    """The task asking ``source``'s worker to remove its links to ``target``."""
    attr, etype, eid = target
    return DataPointTask(source_etype, source_eid, tags=[f"{UNLINK_TAG} {attr} {etype} {eid}"])


def parse_unlink(task: DataPointTask) -> LinkTarget | None:
    """The target of an unlink task; None for any other task."""
    tag = platform_task(task)
    if tag is None or not tag.startswith(UNLINK_TAG + " "):
        return None
    parts = tag[len(UNLINK_TAG) + 1 :].split(" ", 2)
    if len(parts) != 3:
        return None
    return parts[0], parts[1], parts[2]


def remove_links(record: EntityRecord, target: LinkTarget) -> None:
    """Remove what links ``record`` to ``target``, as DP³'s ``delete_link_dps``: every
    observation row whose value links to it (a list value: if any of its links does),
    and a plain link attribute whole."""
    attr, _, eid = target
    rows = record.attrs.get(attr, {})
    linking = [key for key, row in rows.items() if _links_to(row, eid)]
    for key in linking:
        record.remove(attr, key)
    if linking:
        record.dropped_links.append(target)


def replaced_links(record: EntityRecord, attr: str, target: str, old: Any) -> None:
    """Note in ``record`` the links of ``old`` (a plain link value just replaced) that
    its new value no longer has (DP³ leaves them in its cache; here the index follows)."""
    new = {eid_text(eid) for eid in link_eids(record.plain(attr))}
    for eid in link_eids(old):
        if eid_text(eid) not in new:
            record.dropped_links.append((attr, target, eid_text(eid)))


def _links_to(row: Row, eid: str) -> bool:
    return any(eid_text(linked) == eid for linked in link_eids(row.value))
