"""Control reaches every role, as real ``streamcore`` processes: an ingestion worker, two
snapshot workers and a scheduler on the dev servers, driven by ``streamcore control``.

- ``make_snapshots`` starts exactly one run, however many replicas could start it, and
  the snapshot workers' and the scheduler's /metrics show what ran;
  ``refresh_on_entity_creation`` is answered by every role and run by one replica;
- ``refresh_module_config`` changes the module's behaviour in all three roles, and DP³'s
  ``refresh=self.refresh`` hooks re-run for every entity in the next snapshot run (in the
  snapshot workers' processes, not where the flag was set), once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from control_support import cli, labels, send_names
from role_processes import RoleProcess, role_env, role_processes
from support import CONFIGS, application, wait_for

from streamcore.runtime import Runtime
from streamcore.settings import Settings
from streamcore.state.snapshots import SnapshotStore

CONFIG = CONFIGS / "roles"
ROLES = ["worker", "snapshots", "snapshots", "scheduler"]


def fast(settings: Settings) -> Settings:
    """Heartbeats every second, so the CLI sees a new replica within seconds."""
    control = settings.control.model_copy(update={"heartbeat_seconds": 1.0})
    return settings.model_copy(update={"control": control})


def answers(output: str) -> dict[str, list[str]]:
    """Role -> the outcome lines of ``streamcore control``'s per-replica report."""
    found: dict[str, list[str]] = {}
    for line in output.splitlines():
        if line.startswith("  ") and " (" in line and "): " in line:
            role = line.split(" (", 1)[1].split(")", 1)[0]
            found.setdefault(role, []).append(line.split("): ", 1)[1])
    return found


def runs(runtime: Runtime) -> list[Any]:
    keyspace = runtime.settings.cassandra.keyspace
    return list(runtime.session.execute(f"SELECT run, trigger FROM {keyspace}.snapshot_runs"))


def runs_done(runtime: Runtime, count: int) -> bool:
    """``count`` runs recorded, every task of each done."""
    store = SnapshotStore(
        runtime.session, runtime.settings.cassandra.keyspace, runtime.config.model_spec
    )
    recorded = runs(runtime)
    return len(recorded) >= count and all(
        store.progress(row.run)[0] >= (store.run_tasks(row.run) or 0) for row in recorded
    )


def finalized(snapshots: list[RoleProcess]) -> float:
    return sum(p.total("streamcore_snapshot_runs_total", event="finalized") for p in snapshots)


def control(runtime: Runtime, *args: str) -> str:
    result = cli(runtime, *args, str(CONFIG))
    assert result.exit_code == 0, result.output
    return result.output


def test_make_snapshots_and_entity_refresh_run_once_through_control_and_metrics_move(
    settings: Settings, app_name: str, keyspace: str, tmp_path: Path
) -> None:
    settings = fast(settings)
    env = role_env(settings, keyspace)
    with (
        application(settings, app_name, keyspace, config=CONFIG) as runtime,
        role_processes(ROLES, CONFIG, app_name, env, tmp_path) as processes,
    ):
        send_names(runtime, {f"h{i}": f"n{i}" for i in range(30)})
        wait_for(lambda: all(labels(runtime, [f"h{i}" for i in range(30)]).values()))
        worker, snapshots, scheduler = processes[0], processes[1:3], processes[3]

        output = control(runtime, "make_snapshots")

        by_role = answers(output)
        assert len(by_role["snapshots"]) == 2 and len(by_role["scheduler"]) == 1, output
        started = [
            a for a in by_role["snapshots"] + by_role["scheduler"] if a.startswith("applied")
        ]
        assert len(started) == 1, output
        assert "snapshot run" in started[0]
        assert all(a.startswith("skipped") for a in by_role["worker"]), output
        assert len(runs(runtime)) == 1
        assert runs(runtime)[0].trigger == "control"

        wait_for(lambda: runs_done(runtime, 1) and finalized(snapshots) >= 1, timeout=120)
        assert len(runs(runtime)) == 1  # and no second one later
        assert sum(p.total("streamcore_snapshot_tasks_total") for p in snapshots) == 4
        entities = sum(
            p.total("streamcore_snapshot_entities_total", etype="host") for p in snapshots
        )
        assert entities == 30
        finalized_on = [
            p for p in snapshots if p.total("streamcore_snapshot_runs_total", event="finalized")
        ]
        for process in finalized_on:
            assert process.total("streamcore_snapshot_run_duration_seconds_count") >= 1
            assert process.total("streamcore_snapshot_run_duration_seconds_sum") > 0

        def scheduler_ran() -> bool:
            return scheduler.total("streamcore_scheduler_job_runs_total", outcome="ran") > 0

        wait_for(scheduler_ran, timeout=30)
        succeeded = scheduler.samples("streamcore_scheduler_job_last_success_timestamp_seconds")
        assert any(value > 0 for value in succeeded.values())
        assert scheduler.total("streamcore_scheduler_job_duration_seconds_count") > 0
        assert worker.total("streamcore_control_messages_total", action="make_snapshots") == 1

        # refresh_on_entity_creation reaches every role too; one replica runs it.
        output = control(runtime, "refresh_on_entity_creation", "--etype", "host")
        by_role = answers(output)
        assert [len(by_role[r]) for r in ("worker", "snapshots", "scheduler")] == [1, 2, 1]
        applied = [a for a in sum(by_role.values(), []) if a.startswith("applied")]
        assert len(applied) == 1 and "re-ran for 30 host entities" in applied[0], output


def test_refresh_module_config_changes_every_role_and_reruns_refresh_hooks_once(
    settings: Settings, app_name: str, keyspace: str, tmp_path: Path
) -> None:
    settings = fast(settings)
    out = tmp_path / "scheduler-prefix.txt"
    env = role_env(settings, keyspace, ROLETAG_OUT=str(out))
    old = {f"o{i}": f"n{i}" for i in range(20)}
    with (
        application(settings, app_name, keyspace, config=CONFIG) as runtime,
        role_processes(ROLES, CONFIG, app_name, env, tmp_path) as processes,
    ):
        snapshots = processes[1:3]
        store = SnapshotStore(runtime.session, keyspace, runtime.config.model_spec)
        send_names(runtime, old)
        wait_for(lambda: all(labels(runtime, list(old), "origin").values()))
        assert labels(runtime, list(old)) == {e: f"v0-{n}" for e, n in old.items()}
        wait_for(lambda: out.exists() and out.read_text() == "v0-")
        control(runtime, "make_snapshots")
        wait_for(lambda: runs_done(runtime, 1), timeout=120)
        assert store.latest("host", "o0")[1]["snap_tag"] == "v0-"  # type: ignore[index]

        new_config = tmp_path / "roletag.yml"
        new_config.write_text("prefix: v1-\n")
        output = control(
            runtime,
            "refresh_module_config",
            "--module",
            "roletag",
            "--module-config",
            str(new_config),
        )

        by_role = answers(output)
        assert [len(by_role[r]) for r in ("worker", "snapshots", "scheduler")] == [1, 2, 1]
        assert all(a.startswith("applied") for a in sum(by_role.values(), [])), output
        # The worker: new names get the new label; the creation hook's old values stay.
        new = {f"n{i}": f"m{i}" for i in range(5)}
        send_names(runtime, new)
        wait_for(lambda: labels(runtime, list(new)) == {e: f"v1-{n}" for e, n in new.items()})
        assert set(labels(runtime, list(old), "origin").values()) == {"v0-created"}
        # The scheduler: its job writes the new prefix.
        wait_for(lambda: out.read_text() == "v1-")

        # The next run, in the snapshot workers: the new snap_tag, and the refreshable
        # creation hook re-run for every entity (in the snapshot, and fed back to state).
        control(runtime, "make_snapshots")
        wait_for(lambda: runs_done(runtime, 2), timeout=120)
        everyone = list(old) + list(new)
        latest = {eid: store.latest("host", eid)[1] for eid in everyone}  # type: ignore[index]
        assert {v["snap_tag"] for v in latest.values()} == {"v1-"}
        assert {v["origin"] for v in latest.values()} == {"v1-created"}
        wait_for(lambda: set(labels(runtime, everyone, "origin").values()) == {"v1-created"})

        def refreshed() -> float:
            return sum(p.total("streamcore_hook_emitted_tasks_total") for p in snapshots)

        assert refreshed() == len(everyone)

        # Once: the run after it does not re-run the hooks.
        control(runtime, "make_snapshots")
        wait_for(lambda: runs_done(runtime, 3), timeout=120)
        assert refreshed() == len(everyone)
