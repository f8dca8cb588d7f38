"""``CallbackRegistrar``: where modules register their hooks, with DP³'s methods.

Lifecycle: the loader creates one registrar per worker process, constructs every enabled
module with it (modules register in ``__init__``), then hands the registrations to the
stages that run them: ``ingestion_hooks()`` builds the ingestion engine; ``registry`` holds
everything else (correlation hooks in dependency order, timeseries/init/finalize hooks,
updater hooks, scheduled jobs; see ``HookRegistry``). An engine is built from the
registrations made before it; registering later does not change it.

Every call is checked against the entity model when it is made, so a wrong registration
fails module start-up, not a batch: an unknown hook kind, entity or attribute
(``UnknownHookTargetError``), an attribute of the wrong kind (``HookTargetKindError``), the
same callback twice in the same context (``DuplicateHookError``), a correlation cycle
(``HookCycleError``), other bad arguments (``HookRegistrationError``). All are
``ValueError`` too, which is what DP³ raises.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from streamcore.errors import (
    DuplicateHookError,
    HookRegistrationError,
    HookTargetKindError,
    UnknownHookTargetError,
)
from streamcore.model.modelspec import ModelSpec
from streamcore.model.primitives import parse_duration
from streamcore.model.spec import AttrType
from streamcore.model.suggest import did_you_mean
from streamcore.module.flag import SharedFlag
from streamcore.module.hooks import (
    ENTITY_HOOK_KINDS,
    ON_NEW_HOOK_BY_ATTR_TYPE,
    TASK_HOOK_KINDS,
    HookKind,
    HookRegistration,
    as_paths,
    owning_module,
)
from streamcore.module.refresh import RefreshRun, UnsetFlag
from streamcore.module.registry import HookRegistry
from streamcore.module.schedule import check_cron_fields

if TYPE_CHECKING:
    from streamcore.module.budget import HookBudget
    from streamcore.module.dispatch import HookObserver, IngestionHooks
    from streamcore.module.hooklog import HookFailureLog

Paths = list[list[str]]


class CallbackRegistrar:
    """Interface for callback registration (DP³'s, method for method).

    Args:
        model_spec: the entity model every registration is checked against
        update_batch_period: the updater's batch period; updater hook periods may not be
            shorter (``updater.yml``'s ``update_batch_period``, 5 minutes by default)
    """

    def __init__(
        self, model_spec: ModelSpec, update_batch_period: timedelta = timedelta(minutes=5)
    ) -> None:
        self.model_spec = model_spec
        self.log = logging.getLogger(self.__class__.__name__)
        self._update_batch_period = update_batch_period
        self.registry = HookRegistry(model_spec)
        self._module: str | None = None

    # -- registration scope ------------------------------------------------------------

    @contextmanager
    def module_scope(self, module: str) -> Iterator[None]:
        """Attribute registrations made inside the block to ``module`` (used by the loader)."""
        previous, self._module = self._module, module
        try:
            yield
        finally:
            self._module = previous

    # -- scheduler -----------------------------------------------------------------------

    def scheduler_register(
        self,
        func: Callable[..., Any],
        *,
        func_args: list[Any] | tuple[Any, ...] | None = None,
        func_kwargs: dict[str, Any] | None = None,
        year: int | str | None = None,
        month: int | str | None = None,
        day: int | str | None = None,
        week: int | str | None = None,
        day_of_week: int | str | None = None,
        hour: int | str | None = None,
        minute: int | str | None = None,
        second: int | str | None = None,
        timezone: str = "UTC",
        misfire_grace_time: int = 1,
        per_replica: bool = False,
        once_per_cluster: bool = False,
    ) -> int:
        """Run ``func(*func_args, **func_kwargs)`` at times given as CRON fields (APScheduler's
        ``CronTrigger`` syntax, as in DP³). Returns the job id.

        As in DP³ (each worker's local scheduler), the callback runs in every process that
        hosts the module: each ingestion worker and snapshot worker (on the thread that
        runs its hooks, between batches, so a reload never changes state under a running
        hook) and each ``streamcore scheduler`` replica. ``once_per_cluster=True`` (a
        streamcore addition) runs each fire time once in the whole cluster instead, in one
        scheduler replica, for side effects that must happen once. ``per_replica=True`` is
        the default behaviour, kept for modules written for earlier streamcore versions.
        """
        if per_replica and once_per_cluster:
            raise HookRegistrationError(
                "scheduler_register: per_replica and once_per_cluster exclude each other"
            )
        fields = check_cron_fields(
            {
                "year": year,
                "month": month,
                "day": day,
                "week": week,
                "day_of_week": day_of_week,
                "hour": hour,
                "minute": minute,
                "second": second,
            },
            timezone,
        )
        return self._add_job(
            func,
            func_args=tuple(func_args or ()),
            func_kwargs=dict(func_kwargs or {}),
            fields=fields,
            timezone=timezone,
            misfire_grace_time=misfire_grace_time,
            once_per_cluster=once_per_cluster,
        )

    def scheduler_register_once(
        self,
        func: Callable[..., Any],
        *,
        func_args: list[Any] | tuple[Any, ...] | None = None,
        func_kwargs: dict[str, Any] | None = None,
        misfire_grace_time: int = 60,
    ) -> int:
        """Run ``func`` once when the scheduler starts. Returns the job id."""
        return self._add_job(
            func,
            func_args=tuple(func_args or ()),
            func_kwargs=dict(func_kwargs or {}),
            misfire_grace_time=misfire_grace_time,
            once=True,
        )

    # -- ingestion hooks -----------------------------------------------------------------

    def register_task_hook(self, hook_type: str, hook: Callable[..., Any]) -> None:
        """Register a task hook; ``"on_task_start"`` is the one kind: ``hook(task)`` runs
        for every task, deletes included, before anything else; its return is ignored."""
        self._add(HookKind.parse(hook_type, TASK_HOOK_KINDS), hook)

    def register_allow_entity_creation_hook(
        self, hook: Callable[[Any, Any], bool], entity: str
    ) -> None:
        """``hook(eid, task) -> bool`` runs before an entity of type ``entity`` is created;
        returning False drops the task (no entity, no data-points, no further hooks)."""
        self._add(HookKind.ALLOW_ENTITY_CREATION, hook, entity=self._entity(entity))

    def register_on_entity_creation_hook(
        self,
        hook: Callable[[Any, Any], Any],
        entity: str,
        refresh: SharedFlag | None = None,
        may_change: Paths | None = None,
    ) -> None:
        """``hook(eid, task) -> list[DataPointTask] | None`` runs once when an entity of type
        ``entity`` is created, before the task's data-points are applied.

        With ``refresh`` (pass ``self.refresh``), it also re-runs in snapshot runs after a
        configuration reload; ``may_change`` (attribute paths) is then required.
        """
        self._add(HookKind.ON_ENTITY_CREATION, hook, entity=self._entity(entity))
        if refresh is not None:
            self._add_refresh(hook, entity, [], refresh, may_change)

    def register_entity_hook(self, hook_type: str, hook: Callable[..., Any], entity: str) -> None:
        """Deprecated DP³ form of the two entity hooks; use the specific methods."""
        warnings.warn(
            "register_entity_hook is deprecated, use register_on_entity_creation_hook "
            "or register_allow_entity_creation_hook",
            DeprecationWarning,
            stacklevel=2,
        )
        self._add(HookKind.parse(hook_type, ENTITY_HOOK_KINDS), hook, entity=self._entity(entity))

    def register_on_new_attr_hook(
        self,
        hook: Callable[[Any, Any], Any],
        entity: str,
        attr: str,
        refresh: SharedFlag | None = None,
        may_change: Paths | None = None,
    ) -> None:
        """``hook(eid, dp) -> list[DataPointTask] | None`` runs for every data-point of
        ``entity``/``attr``, after the task's data-points are applied. ``refresh`` and
        ``may_change`` as for ``register_on_entity_creation_hook``."""
        self._attribute(entity, attr)
        self._add(HookKind.ON_NEW_ATTR, hook, entity=entity, attr=attr)
        if refresh is not None:
            self._add_refresh(hook, entity, [[attr]], refresh, may_change)

    def register_attr_hook(
        self, hook_type: str, hook: Callable[..., Any], entity: str, attr: str
    ) -> None:
        """Deprecated DP³ form (``"on_new_plain"`` etc.); use ``register_on_new_attr_hook``."""
        warnings.warn(
            "register_attr_hook is deprecated, use register_on_new_attr_hook",
            DeprecationWarning,
            stacklevel=2,
        )
        expected = ON_NEW_HOOK_BY_ATTR_TYPE[self._attribute(entity, attr)]
        if hook_type != expected:
            raise UnknownHookTargetError(
                f"Hook type '{hook_type}' doesn't exist for {entity}/{attr} "
                f"(expected '{expected}')."
            )
        self._add(HookKind.ON_NEW_ATTR, hook, entity=entity, attr=attr)

    # -- snapshot hooks (run by the snapshot worker) ---------------------------------------

    def register_timeseries_hook(
        self,
        hook: Callable[[str, str, list[dict[str, Any]]], Any],
        entity_type: str,
        attr_type: str,
    ) -> None:
        """``hook(entity_type, attr_type, history) -> list[DataPointTask]`` runs in snapshot
        runs on the history of a timeseries attribute."""
        kind = self._attribute(entity_type, attr_type)
        if kind != AttrType.TIMESERIES:
            raise HookTargetKindError(
                f"'{entity_type}.{attr_type}' is not a timeseries, but {str(kind.name).lower()}."
            )
        self._add(HookKind.TIMESERIES, hook, entity=entity_type, attr=attr_type)

    def register_correlation_hook(
        self,
        hook: Callable[[str, dict[str, Any]], Any],
        entity_type: str,
        depends_on: Paths,
        may_change: Paths,
    ) -> None:
        """``hook(entity_type, current_values) -> list[DataPointTask] | None`` runs in snapshot
        runs, after every hook writing an attribute in ``depends_on`` (attribute paths from
        ``entity_type`` through links); it may change values in ``may_change`` in place."""
        self._add_correlation(HookKind.CORRELATION, hook, entity_type, depends_on, may_change)

    def register_correlation_hook_with_master_record(
        self,
        hook: Callable[[str, dict[str, Any], dict[str, Any]], Any],
        entity_type: str,
        depends_on: Paths,
        may_change: Paths,
    ) -> None:
        """As ``register_correlation_hook``; the hook also receives the stored master record."""
        kind = HookKind.CORRELATION_WITH_MASTER_RECORD
        self._add_correlation(kind, hook, entity_type, depends_on, may_change)

    def register_snapshot_init_hook(self, hook: Callable[[], Any]) -> None:
        """``hook() -> list[DataPointTask]`` runs before each snapshot run (on every worker)."""
        self._add(HookKind.SNAPSHOT_INIT, hook)

    def register_snapshot_finalize_hook(self, hook: Callable[[], Any]) -> None:
        """``hook() -> list[DataPointTask]`` runs after each snapshot run (on every worker)."""
        self._add(HookKind.SNAPSHOT_FINALIZE, hook)

    # -- updater hooks -------------------------------------------------------------------

    def register_periodic_update_hook(
        self,
        hook: Callable[[str, Any, dict[str, Any]], Any],
        hook_id: str,
        entity_type: str,
        period: timedelta | str | int,
    ) -> None:
        """``hook(entity_type, eid, master_record) -> list[DataPointTask]``; every entity of
        the type is visited once per ``period`` (``"1d"``, seconds or a timedelta)."""
        self._add_periodic(HookKind.PERIODIC_UPDATE, hook, hook_id, entity_type, period)

    def register_periodic_eid_update_hook(
        self,
        hook: Callable[[str, Any], Any],
        hook_id: str,
        entity_type: str,
        period: timedelta | str | int,
    ) -> None:
        """``hook(entity_type, eid) -> list[DataPointTask]``, as the record variant but
        without loading records."""
        self._add_periodic(HookKind.PERIODIC_EID_UPDATE, hook, hook_id, entity_type, period)

    # -- hand-over to the engines ----------------------------------------------------------

    def ingestion_hooks(
        self,
        observer: HookObserver | None = None,
        budget: HookBudget | None = None,
        failures: HookFailureLog | None = None,
    ) -> IngestionHooks:
        """The ingestion hook engine over the hooks registered so far (see ``dispatch``),
        each call under ``budget`` if given, failures logged by ``failures``."""
        from streamcore.module.dispatch import IngestionHooks

        return IngestionHooks(self.registry.registrations, observer, budget, failures)

    # -- checks ------------------------------------------------------------------------------

    def _entity(self, entity: str) -> str:
        if entity not in self.model_spec.entities:
            raise UnknownHookTargetError(
                f"Entity '{entity}' does not exist."
                + did_you_mean(str(entity), self.model_spec.entities)
            )
        return entity

    def _attribute(self, entity: str, attr: str) -> AttrType:
        specs = self.model_spec.entity_attributes[self._entity(entity)]
        spec = specs.get(attr)
        if spec is None:
            raise UnknownHookTargetError(
                f"Cannot register hook for attribute {entity}/{attr}, are you sure it exists?"
                + did_you_mean(str(attr), specs)
            )
        return spec.t

    def _add(self, kind: HookKind, hook: Callable[..., Any], **context: Any) -> None:
        if not callable(hook):
            raise HookRegistrationError(f"{kind.value} hook {hook!r} is not callable.")
        module = self._module or owning_module(hook)
        reg = self.registry.add(HookRegistration(kind, hook, module, **context))
        self.log.debug("Added hook %s", reg.describe())

    def _add_correlation(
        self,
        kind: HookKind,
        hook: Callable[..., Any],
        entity_type: str,
        depends_on: Paths,
        may_change: Paths,
    ) -> None:
        paths = {"depends_on": as_paths(depends_on), "may_change": as_paths(may_change)}
        self._add(kind, hook, entity=self._entity(entity_type), **paths)

    def _add_refresh(
        self,
        hook: Callable[..., Any],
        entity: str,
        depends_on: Paths,
        refresh: SharedFlag,
        may_change: Paths | None,
    ) -> None:
        if may_change is None:
            raise HookRegistrationError("'may_change' must be specified if 'refresh' is specified")
        rerun = RefreshRun(self.model_spec, refresh, hook)
        self._add_correlation(HookKind.CORRELATION, rerun, entity, depends_on, may_change)
        self._add(HookKind.SNAPSHOT_FINALIZE, UnsetFlag(refresh))

    def _add_periodic(
        self,
        kind: HookKind,
        hook: Callable[..., Any],
        hook_id: str,
        entity_type: str,
        period: timedelta | str | int,
    ) -> None:
        try:
            span = parse_duration(period)
        except ValueError as exc:
            raise HookRegistrationError(f"{kind.value} hook '{hook_id}': {exc}") from None
        if span < self._update_batch_period:
            raise HookRegistrationError(
                f"{kind.value} hook '{hook_id}': the period ({span}) must be at least the "
                f"update batch period ({self._update_batch_period})."
            )
        thread = (kind, self._entity(entity_type), span, hook_id)
        for other in self.registry.periodic_hooks():
            if (other.kind, other.entity, other.period, other.hook_id) == thread:
                raise DuplicateHookError(
                    f"Hook ID {hook_id} already registered for {entity_type} ({other.module})."
                )
        self._add(kind, hook, entity=entity_type, hook_id=hook_id, period=span)

    def _add_job(self, func: Callable[..., Any], **fields: Any) -> int:
        if not callable(func):
            raise HookRegistrationError(f"scheduler job {func!r} is not callable.")
        module = self._module or owning_module(func)
        return self.registry.add_job(func=func, module=module, **fields).job_id
