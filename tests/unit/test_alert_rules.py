"""The Prometheus alerting rules: valid (promtool check rules), each alert firing in its
scenario and silent beside it (promtool test rules), and over metrics streamcore exports."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import CollectorRegistry

from streamcore.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "helm" / "streamcore" / "files" / "alerts.yml"
RULE_TESTS = ROOT / "tests" / "prometheus" / "alerts_test.yml"


def run(promtool: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(promtool), *args], capture_output=True, text=True, timeout=120, check=False
    )


def alerts() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_promtool_accepts_the_rules(promtool: Path) -> None:
    checked = run(promtool, "check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in checked.stdout


def test_every_alert_passes_its_promtool_unit_tests(promtool: Path) -> None:
    tested = run(promtool, "test", "rules", str(RULE_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_is_tested_firing_and_silent() -> None:
    cases = [
        case
        for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for case in test["alert_rule_test"]
    ]
    for rule in alerts():
        name = rule["alert"]
        mine = [case for case in cases if case["alertname"] == name]
        assert any(case["exp_alerts"] for case in mine), f"{name} is never tested firing"
        assert any(not case["exp_alerts"] for case in mine), f"{name} is never tested silent"
        assert rule["labels"]["severity"] in {"warning", "critical"}


def test_the_rules_use_only_metrics_streamcore_exports() -> None:
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
    declared = {
        family.name + suffix
        for family in Metrics(CollectorRegistry()).registry.collect()
        for suffix in suffixes.get(family.type, ("",))
    }
    used = {name for rule in alerts() for name in re.findall(r"\bstreamcore_\w+", rule["expr"])}
    assert used <= declared, used - declared
