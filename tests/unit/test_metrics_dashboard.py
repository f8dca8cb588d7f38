"""The Grafana dashboard shows every declared metric and only declared ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import CollectorRegistry

from streamcore.metrics import Metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboards" / "streamcore.json"


def test_the_dashboard_shows_exactly_the_declared_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = {
        re.sub(r"_(bucket|sum|count)$", "", name)
        for expr in exprs
        for name in re.findall(r"\bstreamcore_[a-z_]+", expr)
    }
    declared = {f.name for f in Metrics(CollectorRegistry()).registry.collect()}
    counters = {f"{name}_total" for name in declared}
    assert used <= declared | counters, used - declared - counters
    shown = {name.removesuffix("_total") for name in used}
    assert declared <= shown, declared - shown
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
