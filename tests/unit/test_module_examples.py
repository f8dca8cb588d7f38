"""The example modules in modules/, loaded from config/ as the worker loads them."""

from __future__ import annotations

from datetime import UTC, datetime
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from streamcore import DataPoint, DataPointTask, Link
from streamcore.module import HookKind, load_modules
from streamcore.testing import ModuleHarness, load_app_config

CONFIG = Path(__file__).parents[2] / "config"
T1 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
T2 = datetime(2025, 1, 2, 4, 4, 5, tzinfo=UTC)


@pytest.fixture
def harness() -> ModuleHarness:
    harness = ModuleHarness.for_config_dir(CONFIG)
    for name in ("task_counter", "prefix_filter", "first_seen", "hostname_classifier"):
        harness.load(name)
    return harness


def hostname(ip: str, name: str) -> DataPointTask:
    dp = DataPoint("ip", ip, "hostname", name, t1=T1, t2=T2, c=0.9, src="test")
    return DataPointTask("ip", ip, [dp])


def test_the_loader_loads_every_enabled_example() -> None:
    app = load_app_config(CONFIG)
    registrar, modules = load_modules(app.platform_config("test"))
    assert list(modules) == [
        "task_counter",
        "prefix_filter",
        "first_seen",
        "hostname_classifier",
        "ports",
        "port_risk",
    ]
    kinds = {(r.module, r.kind) for r in registrar.registry.registrations}
    assert kinds == {
        ("task_counter", HookKind.ON_TASK_START),
        ("prefix_filter", HookKind.ALLOW_ENTITY_CREATION),
        ("first_seen", HookKind.ON_ENTITY_CREATION),
        ("hostname_classifier", HookKind.ON_NEW_ATTR),
        ("ports", HookKind.CORRELATION),
        ("port_risk", HookKind.CORRELATION),
    }


def test_a_hostname_for_a_new_ip_derives_everything(harness: ModuleHarness) -> None:
    run = harness.send(hostname("192.0.2.10", "vpn-gw.Example.org."))
    ip = IPv4Address("192.0.2.10")
    assert run.created == [("ip", ip), ("domain", "example.org")]
    assert run.datapoint(etype="ip", attr="first_seen").v == T1
    assert run.datapoint(etype="ip", attr="is_public").v is False
    assert run.datapoint(etype="ip", attr="risk").v == "high"
    assert run.datapoint(etype="ip", attr="domains").v == [Link("example.org")]
    resolves = run.datapoint(etype="domain", eid="example.org", attr="resolves_to")
    assert (resolves.v, resolves.t1, resolves.t2) == ([ip], T1, T2)
    counter = harness.modules["task_counter"]
    assert counter.total == len(run.processed) == 4  # type: ignore[attr-defined]


def test_known_ips_are_not_created_again(harness: ModuleHarness) -> None:
    harness.entities.add(("ip", IPv4Address("10.1.2.3")))
    run = harness.send(hostname("10.1.2.3", "mail.example.com"))
    run.assert_no_datapoints(attr="first_seen")
    assert run.datapoint(attr="risk").v == "medium"


def test_ips_outside_the_prefixes_are_denied(harness: ModuleHarness) -> None:
    run = harness.send(hostname("8.8.8.8", "dns.google"))
    assert [t.eid for t in run.denied] == [IPv4Address("8.8.8.8")]
    assert run.derived == [] and run.created == []


def test_single_label_hostnames_derive_only_the_risk(harness: ModuleHarness) -> None:
    harness.entities.add(("ip", IPv4Address("10.0.0.1")))
    run = harness.send(hostname("10.0.0.1", "localhost"))
    assert [dp.attr for task in run.derived for dp in task.data_points] == ["risk"]
    assert run.datapoint(attr="risk").v == "low"


def test_deletes_are_counted_and_stop_there(harness: ModuleHarness) -> None:
    harness.entities.add(("ip", IPv4Address("10.0.0.1")))
    run = harness.send(DataPointTask("ip", "10.0.0.1", delete=True))
    assert run.deleted == [("ip", IPv4Address("10.0.0.1"))]
    assert harness.modules["task_counter"].deletes == 1  # type: ignore[attr-defined]
