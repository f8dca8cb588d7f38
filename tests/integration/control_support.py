"""Helpers for the control and metrics tests: replicas of a worker in threads, the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from prometheus_client import CollectorRegistry
from support import CONFIGS, running

from streamcore.cli import main
from streamcore.metrics import Metrics
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.module.loader import load_modules
from streamcore.producer import DataPointProducer
from streamcore.roles import WorkerReplica, build_worker_replica
from streamcore.runtime import Runtime

CONFIG = CONFIGS / "control"


def new_replica(runtime: Runtime, name: str) -> WorkerReplica:
    """A worker replica as ``streamcore worker`` builds it, with its own modules and a
    fresh metrics registry (several replicas share this process)."""
    platform_config = runtime.config.platform_config(runtime.app_name)
    loaded = load_modules(platform_config)
    metrics = Metrics(CollectorRegistry())
    return build_worker_replica(runtime, platform_config, loaded, metrics, instance=name)


@contextmanager
def serving(replica: WorkerReplica) -> Iterator[WorkerReplica]:
    """Catch up on the control topic, run the worker in a thread; stop and leave after."""
    replica.listener.start()
    try:
        with running(replica.worker):
            yield replica
    finally:
        replica.listener.close()


def tagger(replica: WorkerReplica) -> Any:
    return replica.modules["tagger"]


def send_names(runtime: Runtime, names: dict[str, str]) -> None:
    """One task per host: eid -> name (the tagger labels it)."""
    with DataPointProducer(runtime.settings, runtime.app_name, runtime.config.model_spec) as p:
        for eid, name in names.items():
            p.send(DataPointTask("host", eid, [DataPoint("host", eid, "name", name)]))


def labels(runtime: Runtime, eids: list[str], attr: str = "label") -> dict[str, Any]:
    records = runtime.store().load([("host", eid) for eid in eids])
    return {eid: record.plain(attr) for eid, record in zip(eids, records, strict=True)}


def refresh_tagger(runtime: Runtime, directory: Path, prefix: str) -> Result:
    """``streamcore control refresh_module_config`` giving the tagger a new prefix."""
    module_config = directory / "tagger.yml"
    module_config.write_text(f"prefix: {prefix}\n")
    return cli(
        runtime,
        "refresh_module_config",
        str(CONFIG),
        "--module",
        "tagger",
        "--module-config",
        str(module_config),
    )


def cli(runtime: Runtime, *args: str) -> Result:
    """``streamcore control ...`` in this process, against the test's servers and app."""
    settings = runtime.settings
    env = {
        "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "STREAMCORE_CONTROL__HEARTBEAT_SECONDS": str(settings.control.heartbeat_seconds),
    }
    if settings.control.secret is not None:
        env["STREAMCORE_CONTROL__SECRET"] = settings.control.secret.get_secret_value()
    return CliRunner().invoke(
        main, ["control", *args, "--app-name", runtime.app_name], env=env, catch_exceptions=False
    )
