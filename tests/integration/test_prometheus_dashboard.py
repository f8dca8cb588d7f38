"""A real Prometheus scrapes a worker, a snapshot worker and a scheduler, each a
``streamcore`` process, under a small load; then every PromQL expression of the Grafana
dashboard must return a number through Prometheus's HTTP API. The same Prometheus loads
the shipped alert rules, which must evaluate without error.

A panel whose query returns nothing (a metric declared but never recorded, a label
that never gets a value, a misspelt name) shows "No data" to an operator, and fails here.
The range of every ``rate``/``increase`` ($__rate_interval) spans the whole load, so a
counter or histogram that was observed gives a finite value; a histogram that never was
gives NaN, which fails too.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from control_support import cli
from support import CONFIGS, application, wait_for
from test_metrics_http import free_port, get, process_env

from streamcore.dev.prometheus import DevPrometheus
from streamcore.kafka.clients import DeliveryReport, make_producer
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.producer import DataPointProducer
from streamcore.runtime import Runtime
from streamcore.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "dashboards" / "streamcore.json"
ALERTS = ROOT / "helm" / "streamcore" / "files" / "alerts.yml"
CONFIG = CONFIGS / "prometheus"
ENTITIES = 20


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, expression) of every target, rows' nested panels included."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queries = []
    panels = list(dashboard["panels"])
    while panels:
        panel = panels.pop(0)
        panels.extend(panel.get("panels", []))
        queries += [(panel["title"], target["expr"]) for target in panel.get("targets", [])]
    return queries


def concrete(expr: str, window_seconds: int) -> str:
    """The expression as Grafana sends it with job = All and a rate range of the window."""
    text = expr.replace("$__rate_interval", f"{window_seconds}s")
    text = text.replace("${job}", ".*").replace("$job", ".*")  # the variable's allValue
    assert "$" not in text, f"a template variable this test does not fill: {expr}"
    return text


def has_a_number(prometheus: DevPrometheus, expr: str) -> bool:
    """At least one sample, and a finite one (a NaN quantile: nothing was observed)."""
    return any(math.isfinite(float(s["value"][1])) for s in prometheus.query(expr))


def start(role: str, runtime: Runtime, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``streamcore <role> CONFIG`` for the test's application, /metrics on ``port``."""
    command = [sys.executable, "-m", "streamcore.cli", role, str(CONFIG)]
    with log.open("wb") as out:  # a file, not a pipe: a full pipe would block the process
        return subprocess.Popen(
            [*command, "--app-name", runtime.app_name],
            env=process_env(runtime, port),
            stdout=out,
            stderr=out,
        )


@contextmanager
def stopped_at_exit(process: subprocess.Popen[bytes], log: Path) -> Iterator[None]:
    """SIGTERM on the way out; the process must then exit cleanly."""
    try:
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert process.returncode == 0, log.read_text(errors="replace")[-3000:]


def send_load(runtime: Runtime) -> None:
    """Domains and the IPs linking to them, and one record no decoder accepts."""
    now = datetime.now(UTC)
    with DataPointProducer(runtime.settings, runtime.app_name, runtime.config.model_spec) as p:
        for i in range(ENTITIES):
            domain, ip = f"d{i}.example", f"10.0.0.{i + 1}"
            label = "evil" if i % 5 == 0 else "fine"
            p.send(DataPointTask("domain", domain, [DataPoint("domain", domain, "label", label)]))
            p.send(
                DataPointTask(
                    "ip",
                    ip,
                    [
                        DataPoint("ip", ip, "domain", {"eid": domain}),
                        DataPoint("ip", ip, "ports", [22, 80], t1=now),
                    ],
                )
            )
    reports: list[DeliveryReport] = []
    producer = make_producer(runtime.settings.kafka, reports.append)
    producer.produce(runtime.topic("input"), b"junk", b"\x00 not a task")
    producer.flush(30)
    assert reports and reports[-1].error is None


def test_every_dashboard_query_returns_a_number(
    settings: Settings, app_name: str, keyspace: str, tmp_path: Path, prometheus_binary: Path
) -> None:
    queries = dashboard_queries()
    roles = ("worker", "snapshots", "scheduler")
    ports = {role: free_port() for role in roles}
    with application(settings, app_name, keyspace, config=CONFIG) as runtime, ExitStack() as stack:
        for role in roles:
            log = tmp_path / f"{role}.log"
            stack.enter_context(stopped_at_exit(start(role, runtime, ports[role], log), log))
        prometheus = DevPrometheus(
            tmp_path / "prometheus",
            free_port(),
            [(role, f"127.0.0.1:{port}") for role, port in ports.items()],
            scrape_interval="1s",
            rule_files=[ALERTS],
            binary=prometheus_binary,
        )
        prometheus.start()
        stack.callback(prometheus.stop)
        started = time.monotonic()
        for port in ports.values():
            wait_for(lambda port=port: get(port, "/readyz")[0] == 200, timeout=120)

        send_load(runtime)
        # What counts here is the control-message series the replicas record on handling it
        # (on main today they answer "skipped"); 0, 1 and 2 are the command's own exits.
        sent = cli(runtime, "make_snapshots", str(CONFIG))
        assert sent.exit_code in (0, 1, 2), sent.output

        def window() -> int:
            return int(time.monotonic() - started) + 10

        def empty(exprs: list[str]) -> list[str]:
            return [e for e in exprs if not has_a_number(prometheus, concrete(e, window()))]

        expected = [expr for _, expr in queries]
        # Until every query has a number (at most 2 min), then judge.
        deadline = time.monotonic() + 120
        while empty(expected) and time.monotonic() < deadline:
            time.sleep(1)
        rules = prometheus.rules()
        up = {s["metric"]["job"]: s["value"][1] for s in prometheus.query("up")}
        missing = empty(expected)

    assert up == dict.fromkeys(roles, "1")
    # The shipped alert rules load and evaluate on these metrics; no worker alert fires.
    assert {rule["name"] for rule in rules} >= {"StreamcoreWorkerDown", "StreamcoreNoWorker"}
    assert all(rule["health"] == "ok" for rule in rules), rules
    firing = {rule["name"] for rule in rules if rule["state"] != "inactive"}
    assert not firing & {"StreamcoreWorkerDown", "StreamcoreNoWorker", "StreamcoreWorkerStalled"}
    titles = {expr: title for title, expr in queries}
    assert not missing, "panels without data:\n" + "\n".join(f"  {titles[e]}: {e}" for e in missing)
