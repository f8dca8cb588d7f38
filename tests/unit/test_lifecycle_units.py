"""The pure pieces of the replica lifecycle: one snapshot run per make_snapshots message,
module refreshes carried by a run's tasks, and the snapshot and scheduler metrics."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry
from test_scheduler_loop import MemoryClaims as SchedulerClaims

from streamcore.codec.avro import AvroCodec
from streamcore.codec.schemas import SCHEMAS_DIR, Schema, SchemaRegistry, default_registry
from streamcore.control.acks import Outcome
from streamcore.control.actions import SnapshotRunStart
from streamcore.metrics import JobMetrics, Metrics, SnapshotMetrics
from streamcore.model.control import ControlAction, ControlMessage
from streamcore.schedule.scheduler import Job, Scheduler
from streamcore.snapshot.messages import SnapshotTask, SnapshotTaskCodec
from streamcore.snapshot.runs import RunPlanner, make_snapshots

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class MemoryClaims(SchedulerClaims):
    owner = "me"


class Recorder:
    def __init__(self) -> None:
        self.runs: list[tuple[datetime, int, str]] = []
        self.produced: list[bytes] = []

    def add_run(self, run: datetime, tasks: int, trigger: str, owner: str) -> None:
        self.runs.append((run, tasks, trigger))

    def produce(self, topic: str, key: bytes, value: bytes) -> None:
        self.produced.append(value)

    def flush(self, timeout: float | None = None) -> int:
        return 0


class Pending:
    def __init__(self, modules: list[str]) -> None:
        self.modules = modules

    def take(self) -> list[str]:
        taken, self.modules = self.modules, []
        return taken


def message() -> ControlMessage:
    return ControlMessage(ControlAction.MAKE_SNAPSHOTS, {}, NOW)


def test_one_make_snapshots_message_starts_one_run_however_many_replicas_handle_it() -> None:
    claims, recorder = MemoryClaims(), Recorder()
    planner = RunPlanner(recorder, recorder, "tasks", 2, "me")
    replicas = [
        SnapshotRunStart(lambda slot: make_snapshots(claims, planner, lambda: NOW, slot=slot))
        for _ in range(3)
    ]
    outcomes = [handler(message(), 17)[0] for handler in replicas]
    assert outcomes.count(Outcome.APPLIED) == 1
    assert outcomes.count(Outcome.SKIPPED) == 2
    assert len(recorder.runs) == 1
    assert replicas[0](message(), 18)[0] is Outcome.APPLIED  # the next message: a new run
    assert len(recorder.runs) == 2


def test_a_run_takes_the_pending_refreshes_once_and_every_task_names_them() -> None:
    recorder, pending = Recorder(), Pending(["tagger"])
    planner = RunPlanner(recorder, recorder, "tasks", 3, "me", pending)
    codec = SnapshotTaskCodec()
    planner.plan(NOW, "control")
    planner.plan(NOW + timedelta(minutes=1), "control")
    tasks = [codec.decode(value) for value in recorder.produced]
    assert [task.refresh for task in tasks[:3]] == [("tagger",)] * 3
    assert [task.refresh for task in tasks[3:]] == [()] * 3


def test_a_snapshot_task_written_before_refresh_existed_still_decodes() -> None:
    registry = default_registry()
    old = Schema.from_json(
        json.loads((SCHEMAS_DIR / "history" / "snapshot_task.v1.avsc").read_text())
    )
    old_registry = SchemaRegistry()
    old_registry.add(old, current=True)
    data = AvroCodec(old_registry, old.name).encode({"run": NOW, "task": 1, "tasks": 4})
    assert SnapshotTaskCodec(registry).decode(data) == SnapshotTask(NOW, 1, 4, ())


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_job_metrics_count_outcomes_durations_and_last_success() -> None:
    metrics = Metrics(CollectorRegistry())
    done = threading.Event()

    def bad() -> None:
        raise RuntimeError("boom")

    jobs = [Job("bad", bad), Job("good", done.set)]
    scheduler = Scheduler(jobs, MemoryClaims(), observer=JobMetrics(metrics, ["bad", "good"]))
    thread = threading.Thread(target=scheduler.run, daemon=True)
    thread.start()
    done.wait(10)
    scheduler.stop()
    thread.join(10)
    runs = "streamcore_scheduler_job_runs_total"
    assert sample(metrics, runs, job="bad", outcome="failed") == 1
    assert sample(metrics, runs, job="good", outcome="ran") == 1
    assert sample(metrics, runs, job="good", outcome="missed") == 0  # there before any miss
    assert sample(metrics, "streamcore_scheduler_job_duration_seconds_count", job="bad") == 1
    last = "streamcore_scheduler_job_last_success_timestamp_seconds"
    assert (sample(metrics, last, job="good") or 0) > 0
    assert sample(metrics, last, job="bad") is None


def test_updater_progress_and_snapshot_runs_are_observed() -> None:
    metrics = Metrics(CollectorRegistry())
    JobMetrics(metrics).slice_done("t1", 40, 1, 4)
    assert sample(metrics, "streamcore_updater_entities_total", thread="t1") == 40
    assert sample(metrics, "streamcore_updater_period_progress_ratio", thread="t1") == 0.25
    snapshots = SnapshotMetrics(metrics)
    snapshots.tasks_done(2, {"host": 5, "ip": 1}, 1, 0.3)
    snapshots.run_finalized(datetime.now(UTC) - timedelta(seconds=30))
    assert sample(metrics, "streamcore_snapshot_entities_total", etype="host") == 5
    assert sample(metrics, "streamcore_snapshot_tasks_total") == 2
    assert sample(metrics, "streamcore_snapshot_invalid_tasks_total") == 1
    assert sample(metrics, "streamcore_snapshot_run_duration_seconds_count") == 1
    assert (sample(metrics, "streamcore_snapshot_run_duration_seconds_sum") or 0) >= 30


class FakeListener:
    """The control listener's lifecycle calls, recorded."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.served = threading.Event()

    def start(self) -> None:
        self.calls.append("start")

    def serve(self, stopping: threading.Event, timeout: float = 0.5) -> None:
        self.served.set()
        stopping.wait(10)
        self.calls.append("served")

    def close(self) -> None:
        self.calls.append("close")


class BlockingLoop:
    """A loop that can't call ``poll_control`` (like an HTTP server's)."""

    def __init__(self, listener: FakeListener) -> None:
        self._listener = listener

    def run(self) -> None:
        assert self._listener.served.wait(10)  # control runs meanwhile, on its own thread

    def stop(self) -> None:
        pass


def test_a_loop_that_cannot_poll_gets_the_listener_on_its_own_thread_stopped_after() -> None:
    from types import SimpleNamespace

    from streamcore.replica import Replica, Role

    listener = FakeListener()
    closed: list[str] = []
    context = SimpleNamespace(
        role="api",
        instance="api-1",
        loaded=SimpleNamespace(modules={}),
        runtime=SimpleNamespace(app_name="app"),
    )
    role = Role(BlockingLoop(listener), polls_control=False, closing=[lambda: closed.append("x")])
    Replica(context, role, listener).run()  # type: ignore[arg-type]
    assert listener.calls == ["start", "served", "close"]
    assert closed == ["x"]


def test_a_role_waiting_for_setup_builds_its_listener_only_once_set_up() -> None:
    from types import SimpleNamespace

    from streamcore.replica import Replica, Role

    listener = FakeListener()
    set_up = threading.Event()
    built: list[bool] = []

    def make() -> FakeListener:
        built.append(set_up.is_set())
        return listener

    class SetsUpLater(BlockingLoop):
        def run(self) -> None:
            assert not built  # serving before setup, no listener yet
            set_up.set()
            super().run()

    context = SimpleNamespace(
        role="api",
        instance="api-1",
        loaded=SimpleNamespace(modules={}),
        runtime=SimpleNamespace(app_name="app"),
        listener=None,
    )
    role = Role(SetsUpLater(listener), polls_control=False, set_up=set_up.is_set)
    replica = Replica(context, role, None, make)  # type: ignore[arg-type]
    replica.run()
    assert built == [True]
    assert listener.calls == ["start", "served", "close"]
    assert context.listener is listener
