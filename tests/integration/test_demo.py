"""The quick start's main job runs the whole flow and prints a derived profile and snapshot."""

from __future__ import annotations

import pytest

from streamcore import demo
from streamcore.settings import Settings


def test_demo_runs_the_whole_flow(
    settings: Settings, app_name: str, keyspace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert demo.main(app=app_name, keyspace=keyspace, base=settings) == 0
    out = capsys.readouterr().out
    assert f"topic {app_name}.input: created" in out
    assert "line 14: rejected: ip 192.0.2.30, attribute 'asn'" in out
    assert "sent 7 data-points (7 delivered)" in out
    profile = out.split("(master record)\n", 1)[1].split("== latest snapshot", 1)[0]
    assert '"risk"' in profile and '"first_seen"' in profile  # derived by the example modules
    snapshot = out.split("== latest snapshot", 1)[1]
    assert '"risk_score": 10' in snapshot  # computed by the correlation module port_risk
    assert '"services": [' in snapshot
    api = out.split("== HTTP API", 1)[1]  # the same data read back through the API
    assert '"attr_type":1,"current_value":"' in api
    assert '"count":' in api and '"eid":"' in api
