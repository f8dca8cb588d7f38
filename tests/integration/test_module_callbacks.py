"""``scheduler_register`` callbacks run where DP³ runs them: in every process that hosts
the module, so the state a callback reloads is what the same process's hooks use (real
``streamcore worker`` and ``streamcore snapshots`` processes, no scheduler anywhere)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from role_processes import RoleProcess, role_env, role_processes
from support import CONFIGS, application, wait_for

from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.producer import DataPointProducer
from streamcore.runtime import Runtime
from streamcore.settings import Settings

CONFIG = CONFIGS / "callbacks"


def send_seen(runtime: Runtime, eid: str) -> None:
    with DataPointProducer(runtime.settings, runtime.app_name, runtime.config.model_spec) as p:
        p.send(DataPointTask("host", eid, [DataPoint("host", eid, "seen", eid)]))


def rule(runtime: Runtime, eid: str) -> Any:
    (record,) = runtime.store().load([("host", eid)])
    return record.plain("rule")


def test_a_cron_callback_reloads_what_the_workers_hook_uses(
    settings: Settings, app_name: str, keyspace: str, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.txt"
    rules.write_text("rule-1\n", encoding="utf-8")
    env = role_env(settings, keyspace, RELOADER_RULES=str(rules))
    attempts = iter(range(10_000))

    def tagged_with(expected: str) -> bool:
        """A new entity's hook ran with the rule ``expected`` loaded."""
        eid = f"h{next(attempts)}"
        send_seen(runtime, eid)
        wait_for(lambda: rule(runtime, eid) is not None, timeout=60)
        return bool(rule(runtime, eid) == expected)

    with (
        application(settings, app_name, keyspace, config=CONFIG) as runtime,
        role_processes(["worker", "snapshots"], CONFIG, app_name, env, tmp_path) as processes,
    ):
        wait_for(lambda: tagged_with("rule-1"), timeout=60, every=0.5)
        rules.write_text("rule-2\n", encoding="utf-8")
        wait_for(lambda: tagged_with("rule-2"), timeout=60, every=0.5)
        for process in processes:  # the snapshot worker hosts the module too
            wait_for(lambda p=process: reloads(p, "ran") >= 2)
            assert reloads(process, "failed") == 0


def reloads(process: RoleProcess, outcome: str) -> float:
    """Runs of the module's reload callback in ``process`` (its /metrics)."""
    runs = process.samples("streamcore_scheduler_job_runs_total")
    return sum(
        n
        for labels, n in runs.items()
        if "reload" in dict(labels)["job"] and dict(labels)["outcome"] == outcome
    )
