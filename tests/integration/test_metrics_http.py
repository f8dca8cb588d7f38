"""Metrics scraped over HTTP from a running ``streamcore worker`` process, for a known load."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

from control_support import CONFIG, send_names
from prometheus_client.parser import text_string_to_metric_families
from support import application, wait_for

from streamcore.runtime import Runtime
from streamcore.settings import Settings

HOSTS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Sample (name, labels) -> value."""
    status, body = get(port, "/metrics")
    assert status == 200
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def process_env(runtime: Runtime, port: int) -> dict[str, str]:
    """The environment of a ``streamcore`` process on the test's servers, /metrics on port."""
    return {
        **os.environ,
        "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": runtime.settings.kafka.bootstrap_servers,
        "STREAMCORE_CASSANDRA__PORT": str(runtime.settings.cassandra.port),
        "STREAMCORE_CASSANDRA__KEYSPACE": runtime.settings.cassandra.keyspace,
        "STREAMCORE_METRICS__HOST": "127.0.0.1",
        "STREAMCORE_METRICS__PORT": str(port),
    }


def start_worker(runtime: Runtime, port: int) -> subprocess.Popen[bytes]:
    env = process_env(runtime, port)
    command = [
        sys.executable,
        "-m",
        "streamcore.cli",
        "worker",
        str(CONFIG),
        "--app-name",
        runtime.app_name,
    ]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_running_worker_serves_exact_hook_counts_and_plausible_durations(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    with application(settings, app_name, keyspace, config=CONFIG) as runtime:
        port = free_port()
        worker = start_worker(runtime, port)
        try:
            wait_for(lambda: get(port, "/readyz")[0] == 200, timeout=90)
            assert get(port, "/healthz") == (200, "ok\n")
            send_names(runtime, {f"h{i}": f"name{i}" for i in range(HOSTS)})
            # each task derives two (label, origin) that come back through the input topic
            wait_for(
                lambda: (
                    value(scrape(port), "streamcore_ingest_records_consumed_total") == 3 * HOSTS
                ),
                timeout=90,
            )
            samples = scrape(port)
        finally:
            worker.send_signal(signal.SIGTERM)
            _, stderr = worker.communicate(timeout=60)
        assert worker.returncode == 0, stderr.decode()[-2000:]

    for hook, attr in (("on_new_attr", "name"), ("on_entity_creation", "")):
        labels = {"module": "tagger", "hook": hook, "etype": "host", "attr": attr}
        assert value(samples, "streamcore_hook_calls_total", **labels) == HOSTS
        assert value(samples, "streamcore_hook_failures_total", **labels) == 0
        assert value(samples, "streamcore_hook_emitted_tasks_total", **labels) == HOSTS
        assert value(samples, "streamcore_hook_duration_seconds_count", **labels) == HOSTS
        seconds = value(samples, "streamcore_hook_duration_seconds_sum", **labels) or 0.0
        assert 0 < seconds < HOSTS * 0.1  # a string concatenation, well under 100 ms a call
    assert value(samples, "streamcore_ingest_datapoints_applied_total") == 3 * HOSTS
    assert value(samples, "streamcore_ingest_derived_tasks_total") == 2 * HOSTS
    assert value(samples, "streamcore_ingest_latency_seconds_count") == 3 * HOSTS
    assert (value(samples, "streamcore_ingest_latency_seconds_sum") or 0) > 0
    writes = value(
        samples, "streamcore_cassandra_operation_duration_seconds_count", operation="write"
    )
    assert writes is not None and writes >= 1
    assert value(samples, "streamcore_cassandra_errors_total", operation="write") == 0
    assert value(samples, "streamcore_module_config_version", module="tagger") == 0
    assert value(samples, "streamcore_consumer_assigned_partitions") == 4
