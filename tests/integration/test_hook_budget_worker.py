"""A ``streamcore worker`` process whose hook hangs on one task: the hook is interrupted at
its time budget, that task is dead-lettered, the neighbours (behind it in the same
partition) are applied, and the process stays alive and healthy."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from support import CONFIGS, application, read_topic, wait_for

from streamcore.codec.tasks import DeadLetterCodec
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.producer import DataPointProducer
from streamcore.runtime import Runtime
from streamcore.settings import Settings

SLOW_IP = "192.0.2.66"  # the one the sleeper module's hook hangs on (60 s)
NEIGHBOURS = ["192.0.2.65", "192.0.2.67"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def start_worker(runtime: Runtime, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": runtime.settings.kafka.bootstrap_servers,
        "STREAMCORE_CASSANDRA__PORT": str(runtime.settings.cassandra.port),
        "STREAMCORE_CASSANDRA__KEYSPACE": runtime.settings.cassandra.keyspace,
        "STREAMCORE_METRICS__HOST": "127.0.0.1",
        "STREAMCORE_METRICS__PORT": str(port),
        "STREAMCORE_HOOKS__TIME_BUDGET_SECONDS": "1",
    }
    command = [
        *(sys.executable, "-m", "streamcore.cli", "worker"),
        *(str(CONFIGS / "hook_budget"), "--app-name", runtime.app_name),
    ]
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def hostname(runtime: Runtime, ip: str) -> Any:
    (record,) = runtime.store().load([("ip", IPv4Address(ip))])
    return record.plain("hostname")


def test_a_hanging_hook_costs_its_task_not_the_worker(
    settings: Settings, app_name: str, keyspace: str, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    with application(settings, app_name, keyspace, config="hook_budget", partitions=1) as rt:
        order = [NEIGHBOURS[0], SLOW_IP, NEIGHBOURS[1]]
        with DataPointProducer(rt.settings, rt.app_name, rt.config.model_spec) as producer:
            for ip in order:
                producer.send(DataPointTask("ip", ip, [DataPoint("ip", ip, "hostname", f"h-{ip}")]))
        port = free_port()
        worker = start_worker(rt, port, log)
        try:

            def neighbours_applied() -> bool:
                assert worker.poll() is None, log.read_text()[-3000:]
                return all(hostname(rt, ip) == f"h-{ip}" for ip in NEIGHBOURS)

            wait_for(neighbours_applied, timeout=90, every=0.5)
            letters = read_topic(rt.settings, rt.topic("dead_letter"), expect=1)
            assert worker.poll() is None, log.read_text()[-3000:]
            assert get(port, "/healthz") == (200, "ok\n")
            status, body = get(port, "/metrics")
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
        assert worker.returncode == 0, log.read_text()[-3000:]

    (letter,) = [DeadLetterCodec().decode(m.value()) for m in letters]
    assert letter.reason == "hook_timeout"
    assert SLOW_IP.encode() in (letter.key or b"")
    assert letter.offset == 1  # the second record of the only partition
    assert "sleeper" in letter.message and "on_new_attr" in letter.message
    assert "1 s" in letter.message
    assert status == 200
    timeouts = {
        (s.labels.get("module"), s.labels.get("hook")): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
        if s.name == "streamcore_hook_timeouts_total"
    }
    assert timeouts == {("sleeper", "on_new_attr"): 1}
    text = log.read_text()
    assert text.count("interrupted on ip/hostname") == 1, text[-3000:]
