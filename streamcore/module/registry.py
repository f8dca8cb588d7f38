"""``HookRegistry``: every registration of a worker process, and what each stage reads.

The ``CallbackRegistrar`` (DP³'s API) checks a registration's arguments and the entity
model; the registry refuses duplicates and cycles, keeps the registrations in order and
hands them out: the ingestion worker through ``CallbackRegistrar.ingestion_hooks()``, the
snapshot worker through ``correlation_hooks()``, ``used_links`` and ``hooks(kind)`` for
timeseries, init and finalize hooks, the updater through ``periodic_hooks()`` and the
scheduler through ``scheduled_jobs``.

Order guarantees: hooks of one kind run in registration order, i.e. in ``enabled_modules``
order and, within a module, in the order it registered them; correlation hooks run in a
topological order of their attribute dependencies, ties broken by registration order.
"""

from __future__ import annotations

from typing import Any

from streamcore.errors import DuplicateHookError
from streamcore.model.modelspec import ModelSpec
from streamcore.module.correlation import CorrelationGraph
from streamcore.module.hooks import HookKind, HookRegistration
from streamcore.module.schedule import ScheduledJob

CORRELATION_KINDS = frozenset({HookKind.CORRELATION, HookKind.CORRELATION_WITH_MASTER_RECORD})
PERIODIC_KINDS = frozenset({HookKind.PERIODIC_UPDATE, HookKind.PERIODIC_EID_UPDATE})


class HookRegistry:
    """Registrations in order; duplicates (same callback, same context) refused."""

    def __init__(self, model_spec: ModelSpec) -> None:
        self._registrations: list[HookRegistration] = []
        self._jobs: list[ScheduledJob] = []
        self._correlations = CorrelationGraph(model_spec)

    def add(self, reg: HookRegistration) -> HookRegistration:
        """Keep ``reg``; ``DuplicateHookError`` if its callback is already in its context,
        ``HookCycleError``/``UnknownHookTargetError`` from the correlation graph."""
        context = reg.context()
        for other in self._registrations:
            if other.callback == reg.callback and other.context() == context:
                raise DuplicateHookError(
                    f"Hook '{reg.describe()}' is already registered"
                    + ("" if other.module == reg.module else f" (by {other.module})")
                    + "."
                )
        if reg.kind in CORRELATION_KINDS:
            self._correlations.add(reg)
        self._registrations.append(reg)
        return reg

    def add_job(self, **fields: Any) -> ScheduledJob:
        """A new ``ScheduledJob`` with the next job id (ids start at 1, as in DP³)."""
        job = ScheduledJob(job_id=len(self._jobs) + 1, **fields)
        self._jobs.append(job)
        return job

    @property
    def registrations(self) -> list[HookRegistration]:
        """Every registration, in registration order."""
        return list(self._registrations)

    def hooks(self, kind: HookKind) -> list[HookRegistration]:
        """Registrations of ``kind``, in registration order."""
        return [reg for reg in self._registrations if reg.kind is kind]

    def correlation_hooks(self, entity_type: str | None = None) -> list[HookRegistration]:
        """Correlation hooks of both variants (refresh re-runs included) in dependency order.

        ``kind`` tells how to call one: ``callback(etype, current_values)`` for
        ``CORRELATION``, ``callback(etype, current_values, master_record)`` for
        ``CORRELATION_WITH_MASTER_RECORD``.
        """
        return self._correlations.ordered(entity_type)

    @property
    def used_links(self) -> set[tuple[str, str]]:
        """(entity type, link attribute) pairs that correlation paths traverse."""
        return set(self._correlations.used_links)

    def periodic_hooks(self) -> list[HookRegistration]:
        """Updater hooks (``hook_id``, ``entity``, ``period`` set), in registration order."""
        return [reg for reg in self._registrations if reg.kind in PERIODIC_KINDS]

    @property
    def scheduled_jobs(self) -> list[ScheduledJob]:
        """Jobs of ``scheduler_register``/``scheduler_register_once``, by job id."""
        return list(self._jobs)
