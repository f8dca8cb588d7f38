"""ModuleHarness.snapshot: the example config's correlation modules over entities given as
values, a linked domain loaded through its link, snapshot hooks' failures raised."""

from __future__ import annotations

from datetime import UTC, datetime
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from streamcore import BaseModule, CallbackRegistrar, Link, PlatformConfig
from streamcore.testing import HookFailed, ModuleHarness

CONFIG = Path(__file__).parents[2] / "config"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DOMAIN_ON_FIVE = {"resolves_to": [IPv4Address(f"198.51.100.{i}") for i in range(5)]}


def example_harness() -> ModuleHarness:
    harness = ModuleHarness.for_config_dir(CONFIG)
    harness.load("ports")
    harness.load("port_risk")
    return harness


def test_correlation_hooks_see_linked_entities_in_dependency_order() -> None:
    harness = example_harness()
    run = harness.snapshot(
        {
            "ip": {
                "192.0.2.1": {
                    "open_ports": [22, 23, 443],
                    "domains": [Link("shared.example")],
                }
            },
            "domain": {"shared.example": DOMAIN_ON_FIVE},
        },
        time=NOW,
        only=[("ip", "192.0.2.1")],
    )
    ip = run.of("ip", "192.0.2.1")
    assert ip["services"] == ["https", "ssh"]  # ports ran before port_risk read them
    # 23 is risky (30) + two services (2 * 5) + a domain on more than 3 addresses (10)
    assert (ip["risk_score"], ip["risk"]) == (50, "high")
    assert list(run.values) == [("ip", IPv4Address("192.0.2.1"))]  # the domain is context


def test_without_the_linked_domain_the_score_is_lower() -> None:
    run = example_harness().snapshot(
        {"ip": {"192.0.2.1": {"open_ports": [22, 23, 443], "domains": [Link("gone.example")]}}},
        time=NOW,
    )
    assert run.of("ip", "192.0.2.1")["risk_score"] == 40  # the link loads as a missing entity


class Broken(BaseModule):
    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        super().__init__(platform_config, module_config, registrar)
        registrar.register_correlation_hook(self.fail, "ip", [], [["risk"]])

    def fail(self, etype: str, record: dict[str, Any]) -> None:
        raise RuntimeError("correlation bug")


def test_a_failing_correlation_hook_fails_the_test_unless_not_strict() -> None:
    harness = ModuleHarness.for_config_dir(CONFIG)
    harness.load(Broken)
    entities = {"ip": {"192.0.2.1": {"open_ports": [22]}}}
    with pytest.raises(HookFailed, match="correlation bug"):
        harness.snapshot(entities, time=NOW)
    run = harness.snapshot(entities, time=NOW, strict=False)
    assert run.failures and "correlation bug" in run.failures[0].message
