"""The quick start's main job runs the whole flow and prints a derived profile and snapshot."""

from __future__ import annotations

import re

import pytest

from streamcore import demo
from streamcore.settings import Settings


def test_demo_runs_the_whole_flow(
    settings: Settings, app_name: str, keyspace: str, capfd: pytest.CaptureFixture[str]
) -> None:
    assert demo.main(app=app_name, keyspace=keyspace, base=settings) == 0
    out, err = capfd.readouterr()
    assert f"topic {app_name}.input: created" in out
    assert "line 14: rejected: ip 192.0.2.30, attribute 'asn'" in out
    assert "sent 7 data-points (7 delivered)" in out
    profile = out.split("(master record)\n", 1)[1].split("== latest snapshot", 1)[0]
    assert '"risk"' in profile and '"first_seen"' in profile  # derived by the example modules
    snapshot = out.split("== latest snapshot", 1)[1]
    assert '"risk_score": 10' in snapshot  # computed by the correlation module port_risk
    assert '"services": [' in snapshot
    # The story: what was refused and by which module, why the snapshot differs, what next.
    assert (
        "ip 8.8.8.8: not created, its data-points dropped: allow_entity_creation of "
        "prefix_filter refused it" in out
    )
    assert (
        "risk: profile 'medium', snapshot 'low': set at snapshot time by the correlation "
        "module port_risk" in out
    )
    assert "risk_score: only in the snapshot" in out
    assert f"next: streamcore entity get ip 192.0.2.10 --app-name {app_name}" in out
    assert f"STREAMCORE_CASSANDRA__KEYSPACE={keyspace}" in out  # the test's own keyspace
    # No raw librdkafka warnings from the demo. Clients earlier tests left in this process
    # may log about their own apps' deleted topics ("Topic t-....input ... changed"): not ours.
    raw = [line for line in err.splitlines() if line.startswith(("%4|", "%5|"))]
    foreign = re.compile(r"Topic (?!" + re.escape(app_name) + r"\.)\S+ ")
    assert [line for line in raw if not foreign.search(line)] == []
    api = out.split("== HTTP API", 1)[1]  # the same data read back through the API
    assert '"attr_type":1,"current_value":"' in api
    assert '"count":' in api and '"eid":"' in api
