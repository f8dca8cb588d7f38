"""Starting snapshot runs: exactly once per schedule slot, however many replicas run.

Every snapshot worker calls ``RunTrigger.check(now)`` between tasks. When a new slot of
``creation_rate`` has come (and is less than ``grace`` old), each replica tries
``ClaimStore.claim("snapshots", slot)``; the Cassandra LWT lets exactly one win, and only
that one plans the run: it records the run (``snapshot_runs``) and produces its tasks,
``SnapshotTask(run, i, n)`` for i < n, to the ``snapshot_tasks`` topic, where the worker
group shares them. ``make_snapshots`` plans a run now, on demand (CLI ``streamcore
make-snapshots``); for the control action, ``make_snapshots`` with the slot
``control:<offset>`` (see ``streamcore.control.actions.SnapshotRunStart``), so one run
starts however many replicas handle the message.

The planner also takes the pending module refreshes (``streamcore.state.refreshes``) and
puts their names in every task of the run: those modules' ``refresh=`` hooks re-run for
every entity of this run, once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from streamcore.snapshot.messages import SnapshotTask, SnapshotTaskCodec
from streamcore.snapshot.schedule import SnapshotSchedule

log = logging.getLogger(__name__)

CLAIM_JOB = "snapshots"


class Claims(Protocol):
    owner: str

    def claim(self, job: str, slot: str, keep_seconds: int = ...) -> bool: ...


class RunRecorder(Protocol):
    def add_run(self, run: datetime, tasks: int, trigger: str, owner: str) -> None: ...


class Refreshes(Protocol):
    def take(self) -> list[str]: ...


class TaskProducer(Protocol):
    def produce(self, topic: str, key: bytes, value: bytes) -> None: ...

    def flush(self, timeout: float | None = None) -> int: ...


class RunPlanner:
    """Records a run and produces its tasks (by the one replica that claimed it)."""

    def __init__(  # noqa: PLR0913, PLR0917 (the planner's parts, by position as before)
        self,
        runs: RunRecorder,
        producer: TaskProducer,
        topic: str,
        tasks: int,
        owner: str,
        refreshes: Refreshes | None = None,
    ) -> None:
        self._runs = runs
        self._refreshes = refreshes
        self._producer = producer
        self._topic = topic
        self._tasks = tasks
        self._owner = owner
        self._codec = SnapshotTaskCodec()

    def plan(self, run: datetime, trigger: str) -> None:
        run = run.replace(microsecond=run.microsecond // 1000 * 1000)
        self._runs.add_run(run, self._tasks, trigger, self._owner)
        refresh = tuple(self._refreshes.take()) if self._refreshes is not None else ()
        if refresh:
            log.info("snapshot run %s refreshes modules %s", run, ", ".join(refresh))
        for task in range(self._tasks):
            value = self._codec.encode(SnapshotTask(run, task, self._tasks, refresh))
            self._producer.produce(self._topic, str(task).encode(), value)
        if self._producer.flush(60):
            raise RuntimeError(f"snapshot run {run}: tasks not delivered")
        log.info("snapshot run %s (%s): %d tasks produced", run, trigger, self._tasks)


class RunTrigger:
    """Fires ``planner`` once per slot cluster-wide (see the module docstring)."""

    def __init__(
        self,
        schedule: SnapshotSchedule,
        claims: Claims,
        planner: RunPlanner,
        grace: timedelta = timedelta(minutes=1),
    ) -> None:
        self._schedule = schedule
        self._claims = claims
        self._planner = planner
        self._grace = grace
        self._seen: datetime | None = None
        self.claimed = 0

    def check(self, now: datetime | None = None) -> bool:
        """Claim and plan the current slot if it is new here; True if this replica won."""
        now = now or datetime.now(UTC)
        slot = self._schedule.latest_slot(now)
        if slot == self._seen or now - slot > self._grace:
            return False
        self._seen = slot
        if not self._claims.claim(CLAIM_JOB, slot.isoformat()):
            return False
        self.claimed += 1
        self._planner.plan(slot, "schedule")
        return True


def make_snapshots(
    claims: Claims,
    planner: RunPlanner,
    now: Callable[[], datetime] | None = None,
    slot: str | None = None,
    trigger: str = "manual",
) -> datetime | None:
    """Start a snapshot run now (on demand); returns the run's time. With ``slot`` (the
    control action's ``control:<offset>``), None if another replica claimed it first;
    without, the slot is the run's time, and a lost claim raises."""
    run = (now or (lambda: datetime.now(UTC)))()
    run = run.replace(microsecond=run.microsecond // 1000 * 1000)
    if not claims.claim(CLAIM_JOB, slot or f"manual:{run.isoformat()}"):
        if slot is not None:
            return None
        raise RuntimeError(f"snapshot run {run} already claimed")
    planner.plan(run, trigger)
    return run
