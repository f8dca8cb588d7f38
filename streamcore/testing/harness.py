"""``ModuleHarness``: run a module's ingestion hooks as the worker would, without servers.

Lifecycle:

1. build: ``ModuleHarness.for_config_dir("config")`` (the application's checked
   configuration) or ``ModuleHarness.for_model({...db_entities dicts...})``;
2. load: ``harness.load("first_seen")`` imports a module from ``modules_dir`` by name and
   constructs it with its ``modules/<name>.yml``, exactly as the worker's loader does;
   ``harness.load(SomeModule, {"key": 1})`` constructs a class you imported. Load several
   to test how modules interact; registrations are checked as in production;
3. send: ``harness.send(task)`` runs the task through the real ``IngestionHooks`` in DP³'s
   order (``on_task_start``; deletes stop there; for an entity not in ``harness.entities``:
   ``allow_entity_creation`` then ``on_entity_creation``; ``on_new_attr`` per data-point)
   and then every derived task the same way, breadth first, until none are left;
4. assert on the returned ``HarnessRun`` (``run.datapoint(attr="label", v="x")``,
   ``run.derived``, ``run.created``, ``run.denied``);
5. correlation hooks: ``harness.snapshot({"ip": {"192.0.2.1": {"open_ports": [22]}},
   "domain": {...}})`` runs the snapshot engine over entities given as values, linked
   entities included, and returns a ``SnapshotRun`` (``run.of("ip", "192.0.2.1")``).

Differences from the worker, on purpose: no entity state is kept but the set of existing
entities, and a hook that fails makes ``send`` raise ``HookFailed`` (chained to the hook's
exception) so a test sees the error instead of a log line; pass ``strict=False`` to get the
worker's carry-on behaviour with the failures listed in ``run.failures``. Every task is
validated against the model first, so a hook deriving an invalid task fails the test too.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from streamcore.config import PlatformConfig
from streamcore.config.sections import ProcessingCoreConfig
from streamcore.model.datapoint import DataPointTask
from streamcore.module import compat
from streamcore.module.base import BaseModule
from streamcore.module.dispatch import IngestionHooks
from streamcore.module.hooklog import HookFailureLog
from streamcore.module.hooks import HookKind, HookRegistration
from streamcore.module.loader import construct, find_module_class, import_module_file
from streamcore.module.registrar import CallbackRegistrar
from streamcore.testing.config import load_app_config, model_spec_from_dicts, platform_config_for
from streamcore.testing.run import FailureCapture, HarnessRun, HookFailed
from streamcore.testing.snapshots import Entities, SnapshotRun, run_snapshot


class ModuleHarness:
    """Modules under test, their registrar, and the entities that exist so far."""

    def __init__(self, platform_config: PlatformConfig, max_tasks: int = 10_000) -> None:
        self.platform_config = platform_config
        self.model_spec = platform_config.model_spec
        self.registrar = CallbackRegistrar(self.model_spec)
        self.modules: dict[str, BaseModule] = {}
        self.entities: set[tuple[str, Any]] = set()
        """(etype, eid) of entities that exist; add to it to test "already exists" paths."""
        self.max_tasks = max_tasks
        self._hooks: IngestionHooks | None = None

    @classmethod
    def for_config_dir(cls, config_dir: str | Path, app_name: str = "test") -> ModuleHarness:
        """A harness over an application's configuration directory."""
        return cls(load_app_config(config_dir).platform_config(app_name))

    @classmethod
    def for_model(
        cls, entities: Mapping[str, Mapping[str, Any]], config: Mapping[str, Any] | None = None
    ) -> ModuleHarness:
        """A harness over a model given as ``db_entities`` dicts: ``{label: {entity, attribs}}``."""
        return cls(platform_config_for(model_spec_from_dicts(entities), config=config))

    def load(
        self, module: str | type[BaseModule], module_config: Mapping[str, Any] | None = None
    ) -> BaseModule:
        """Construct a module (by name from ``modules_dir``, or a class) and register its hooks.

        ``module_config`` defaults to the module's ``modules/<name>.yml`` content.
        """
        raw = self.platform_config.config
        if isinstance(module, str):
            core = ProcessingCoreConfig.model_validate(raw.get("processing_core", None) or {})
            modules_dir = Path(self.platform_config.config_base_path) / core.modules_dir
            name = module
            module_class = find_module_class(name, import_module_file(name, modules_dir))
        else:
            module_class, name = module, module.__module__.rsplit(".", 1)[-1]
        if module_config is None:
            module_config = (raw.get("modules", None) or {}).get(name, {})
        if compat.is_installed():
            from streamcore.common.task import use_model_spec

            use_model_spec(self.model_spec)  # as load_modules does for DP³ modules
        instance = construct(
            module_class, name, self.platform_config, dict(module_config or {}), self.registrar
        )
        self.modules[name] = instance
        self._hooks = None
        return instance

    def registered(
        self, kind: HookKind | str | None = None, **fields: Any
    ) -> list[HookRegistration]:
        """Registrations of ``kind`` (DP³ name or ``HookKind``) whose fields equal ``fields``."""
        wanted = None if kind is None else HookKind(kind)
        return [
            reg
            for reg in self.registrar.registry.registrations
            if (wanted is None or reg.kind is wanted)
            and all(getattr(reg, key) == value for key, value in fields.items())
        ]

    def send(
        self, tasks: DataPointTask | Iterable[DataPointTask], *, strict: bool = True
    ) -> HarnessRun:
        """Process ``tasks`` and everything they derive; see the module docstring."""
        queue = deque([tasks] if isinstance(tasks, DataPointTask) else tasks)
        run = HarnessRun()
        capture = FailureCapture()
        logger = logging.getLogger("streamcore.module.hooklog")
        logger.addHandler(capture)
        try:
            while queue:
                if len(run.processed) >= self.max_tasks:
                    raise HookFailed(f"more than {self.max_tasks} tasks: do hooks derive forever?")
                task = queue.popleft()
                derived = self._process(self.model_spec.validate_task(task), run)
                run.derived.extend(derived)
                queue.extend(derived)
        finally:
            logger.removeHandler(capture)
        run.failures.extend(capture.failures)
        if strict and run.failures:
            first = run.failures[0]
            raise HookFailed("; ".join(f.message for f in run.failures)) from first.exc
        return run

    def snapshot(
        self,
        entities: Entities,
        *,
        time: datetime | None = None,
        only: Iterable[tuple[str, Any]] | None = None,
        strict: bool = True,
    ) -> SnapshotRun:
        """Run the loaded modules' correlation hooks (and snapshot init/finalize) over
        ``entities``, ``{etype: {eid: {attr: value}}}``, as a snapshot run at ``time``
        would; ``only``: the entities to snapshot, the rest being linked context. See
        ``streamcore.testing.snapshots``."""
        return run_snapshot(
            self.registrar, self.model_spec, entities, time=time, only=only, strict=strict
        )

    @property
    def hooks(self) -> IngestionHooks:
        """The ingestion engine over the loaded modules (rebuilt after each ``load``)."""
        if self._hooks is None:
            # Every failure logged (no rate limit): send() collects them from the log.
            self._hooks = self.registrar.ingestion_hooks(failures=HookFailureLog(interval=0))
        return self._hooks

    def _process(self, task: DataPointTask, run: HarnessRun) -> list[DataPointTask]:
        hooks, key = self.hooks, (task.etype, task.eid)
        run.processed.append(task)
        hooks.run_task_start(task)
        if task.delete:
            self.entities.discard(key)
            run.deleted.append(key)
            return []
        derived: list[DataPointTask] = []
        if key not in self.entities:
            if not hooks.allow_creation(task.etype, task.eid, task):
                run.denied.append(task)
                return []
            self.entities.add(key)
            run.created.append(key)
            derived.extend(hooks.run_entity_creation(task.etype, task.eid, task))
        for dp in task.data_points:
            derived.extend(hooks.run_new_attr(task.etype, task.eid, dp))
        return derived
