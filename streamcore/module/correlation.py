"""Correlation hooks in the order their attribute dependencies require.

Each correlation hook reads the attributes in its ``depends_on`` paths and may write those in
its ``may_change`` paths. A path goes from the hook's entity type through link attributes to
one attribute (``["device", "os"]`` on ``ip``: the ``os`` of the device the ip links to). The
graph has an edge attribute -> hook for every read and hook -> attribute for every write, so
a topological order runs every writer of an attribute before its readers. The snapshot worker
runs hooks in ``ordered(entity_type)`` order and loads the links in ``used_links``.

Checked when a hook is added (at module start-up, never during a snapshot run): every path
exists, only links are traversed, and the new hook closes no cycle. A refused hook leaves
the graph unchanged.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from typing import Any

from streamcore.errors import HookCycleError, UnknownHookTargetError
from streamcore.model.modelspec import ModelSpec
from streamcore.model.spec import AttrSpecClassic
from streamcore.model.suggest import did_you_mean
from streamcore.module.hooks import AttrPath, HookRegistration

Vertex = HookRegistration | str  # a hook, or an attribute as "etype.attr"


class CorrelationGraph:
    """The dependency graph of all correlation hooks, kept topologically sorted."""

    def __init__(self, model_spec: ModelSpec) -> None:
        self._model_spec = model_spec
        self._edges: dict[Vertex, list[Vertex]] = defaultdict(list)
        self._rank: dict[Vertex, int] = {}  # insertion order, to break ties stably
        self._order: list[HookRegistration] = []
        self.used_links: set[tuple[str, str]] = set()
        """(entity type, link attribute) pairs some hook's paths traverse."""

    def add(self, reg: HookRegistration) -> None:
        """Validate ``reg``'s paths and add it; ``HookCycleError`` if it closes a cycle."""
        etype = reg.entity
        if etype is None or etype not in self._model_spec.entities:
            raise UnknownHookTargetError(f"{reg.describe()}: entity '{etype}' does not exist.")
        links: set[tuple[str, str]] = set()
        reads = [self._resolve(reg, etype, path, links) for path in reg.depends_on]
        writes = [self._resolve(reg, etype, path, links) for path in reg.may_change]
        saved = {vertex: list(targets) for vertex, targets in self._edges.items()}
        for attr in reads:
            self._link(attr, reg)
        for attr in writes:
            self._link(reg, attr)
        self._rank.setdefault(reg, len(self._rank))
        try:
            self._order = self._sort()
        except HookCycleError:
            self._edges = defaultdict(list, saved)
            del self._rank[reg]
            raise
        self.used_links |= links

    def ordered(self, entity_type: str | None = None) -> list[HookRegistration]:
        """Hooks of ``entity_type`` (all if None) in an order respecting every dependency."""
        if entity_type is None:
            return list(self._order)
        return [reg for reg in self._order if reg.entity == entity_type]

    def _resolve(
        self, reg: HookRegistration, etype: str, path: AttrPath, links: set[tuple[str, str]]
    ) -> str:
        """Follow ``path`` from ``etype``; the destination attribute as ``"etype.attr"``."""
        shown = "->".join((etype, *path))
        if not path:
            raise UnknownHookTargetError(f"{reg.describe()}: empty attribute path.")
        current = etype
        for index, step in enumerate(path):
            spec = self._model_spec.entity_attributes[current].get(step)
            if spec is None:
                raise UnknownHookTargetError(
                    f"{reg.describe()}: invalid path '{shown}', '{current}' has no attribute "
                    f"'{step}'." + did_you_mean(step, self._model_spec.entity_attributes[current])
                )
            if index == len(path) - 1:
                return f"{current}.{step}"
            if not (isinstance(spec, AttrSpecClassic) and spec.is_relation):
                raise UnknownHookTargetError(
                    f"{reg.describe()}: invalid path '{shown}', '{current}.{step}' is not a link."
                )
            links.add((current, step))
            current = spec.relation_to
        raise AssertionError("unreachable")  # pragma: no cover

    def _link(self, source: Vertex, target: Vertex) -> None:
        for vertex in (source, target):
            self._rank.setdefault(vertex, len(self._rank))
        self._edges[source].append(target)

    def _sort(self) -> list[HookRegistration]:
        """Kahn's algorithm; ties go to the earliest added vertex, so the order is stable."""
        in_degree: dict[Vertex, int] = dict.fromkeys(self._rank, 0)
        for targets in self._edges.values():
            for target in targets:
                in_degree[target] += 1
        ready = [(self._rank[v], v) for v, degree in in_degree.items() if degree == 0]
        heapq.heapify(ready)
        order: list[Vertex] = []
        while ready:
            _, vertex = heapq.heappop(ready)
            order.append(vertex)
            for target in self._edges.get(vertex, ()):
                in_degree[target] -= 1
                if in_degree[target] == 0:
                    heapq.heappush(ready, (self._rank[target], target))
        if len(order) != len(in_degree):
            left = {v for v, degree in in_degree.items() if degree > 0}
            raise HookCycleError(
                "Correlation hooks depend on each other in a cycle: " + self._cycle_text(left)
            )
        return [v for v in order if isinstance(v, HookRegistration)]

    def _cycle_text(self, left: set[Vertex]) -> str:
        """One cycle among the vertices Kahn's algorithm could not order, written out.

        Every such vertex has a predecessor among them, so walking predecessors must
        come back to a vertex already seen: that stretch, reversed, is a cycle.
        """
        preds: dict[Vertex, list[Vertex]] = defaultdict(list)
        for source, targets in self._edges.items():
            for target in targets:
                if source in left and target in left:
                    preds[target].append(source)
        walk: list[Vertex] = []
        seen: dict[Vertex, int] = {}
        vertex: Any = min(left, key=self._rank.__getitem__)
        while vertex not in seen:
            seen[vertex] = len(walk)
            walk.append(vertex)
            vertex = min(preds[vertex], key=self._rank.__getitem__)
        cycle = [*walk[seen[vertex] :], vertex][::-1]
        return " -> ".join(v.describe() if isinstance(v, HookRegistration) else v for v in cycle)
