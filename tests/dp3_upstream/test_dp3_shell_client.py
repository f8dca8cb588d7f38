"""DP³'s own shell client (``dp3 sh``, from DP³'s source: ``dp3_shell_support.py``) writes,
lists and reads through ``streamcore api`` on the real servers, with ``--url`` pointed at it.

The application runs as real processes (``streamcore api``, ``worker`` and ``snapshots``
after ``streamcore setup``), so what the shell lists went through Kafka, the worker, a
snapshot run the shell itself asked for, and Cassandra.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import API_CONFIG
from click.testing import CliRunner
from dp3_shell_support import ShellResult, load_dp3_shell, run_dp3_shell, unload_dp3_shell
from role_processes import free_port, role_env, role_processes
from support import wait_for

from streamcore.cli import main
from streamcore.settings import Settings

pytestmark = [pytest.mark.kafka, pytest.mark.cassandra]

EID = "192.0.2.77"
SOURCE = "dp3-sh-test"


@pytest.fixture
def api_url(settings: Settings, app_name: str, keyspace: str, tmp_path: Path) -> Iterator[str]:
    """``streamcore api`` (with a worker and a snapshot worker) of a set-up application."""
    port = free_port()
    env = role_env(settings, keyspace, STREAMCORE_API__PORT=str(port))
    setup = CliRunner().invoke(main, ["setup", str(API_CONFIG), "--app-name", app_name], env=env)
    assert setup.exit_code == 0, setup.output
    roles = ["api", "worker", "snapshots"]
    with role_processes(roles, API_CONFIG, app_name, env, tmp_path):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def dp3_sh(api_url: str) -> Iterator[Any]:
    """``dp3 sh --config <the app's DP³ config> --url <our API> ARGS...``."""
    shell: types.ModuleType = load_dp3_shell()

    def run(*args: str) -> ShellResult:
        return run_dp3_shell(shell, ["--config", str(API_CONFIG), "--url", api_url, *args])

    yield run
    unload_dp3_shell()


def json_lines(output: str) -> list[Any]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_dp3_shell_writes_lists_and_reads_through_the_api(dp3_sh: Any, tmp_path: Path) -> None:
    health = dp3_sh("health")
    assert (health.code, json.loads(health.out)) == (0, {"detail": "It works!"})

    # (1) write: DP³'s JSON array, from a file
    datapoints = tmp_path / "datapoints.json"
    datapoints.write_text(
        json.dumps(
            [
                {"type": "ip", "id": EID, "attr": "note", "v": "from dp3 sh", "src": SOURCE},
                {"type": "ip", "id": EID, "attr": "asn", "v": 64500, "src": SOURCE},
            ]
        )
    )
    written = dp3_sh("datapoints", str(datapoints))
    assert (written.code, json.loads(written.out), written.err) == (0, {"detail": "OK"}, "")

    # (3) read one attribute and the master record once the worker applied them
    def note() -> Any:
        result = dp3_sh("entity", "ip", "id", EID, "attr", "note", "get")
        assert result.code == 0, result.err
        return json.loads(result.out).get("current_value")

    assert wait_for(lambda: note() == "from dp3 sh", 60)
    master = dp3_sh("entity", "ip", "id", EID, "master")
    assert master.code == 0, master.err
    assert json.loads(master.out)["asn"]["v"] == 64500  # DP³'s master record: value and time

    # (2) list: over the latest snapshots, after a snapshot run the shell asks for
    assert dp3_sh("entity", "ip", "list").out == ""  # no snapshot yet
    control = dp3_sh("control", "make-snapshots")
    assert control.code == 0, control.err
    assert json.loads(control.out)["detail"] == "Action sent."

    def listed() -> list[Any]:
        result = dp3_sh("entity", "ip", "list", "--limit", "10")
        assert result.code == 0, result.err
        return json_lines(result.out)

    rows = wait_for(listed, 120)
    assert [row["eid"] for row in rows] == [EID]
    assert rows[0]["note"] == "from dp3 sh" and rows[0]["asn"] == 64500
    # DP³'s filter paths (``last.<attr>``): the shell's own --has-attr builds one too
    counted = dp3_sh("entity", "ip", "count", "--filter-json", '{"last.asn": 64500}')
    assert (counted.code, json.loads(counted.out)) == (0, {"total_count": 1})
    with_asn = dp3_sh("entity", "ip", "count", "--has-attr", "asn")
    assert (with_asn.code, json.loads(with_asn.out)) == (0, {"total_count": 1})
    with_hostname = dp3_sh("entity", "ip", "count", "--has-attr", "hostname")
    assert (with_hostname.code, json.loads(with_hostname.out)) == (0, {"total_count": 0})
    values = dp3_sh("entity", "ip", "attr-values", "note")
    assert json.loads(values.out) == {"from dp3 sh": 1}

    # (4) telemetry: our source was seen
    validity = dp3_sh("telemetry", "sources-validity")
    assert validity.code == 0, validity.err
    assert SOURCE in json.loads(validity.out)


def test_dp3_shell_reports_the_api_refusals_and_exits_non_zero(dp3_sh: Any, tmp_path: Path) -> None:
    # (5) a bad value: the API's 422 (index and field named) is the shell's error output
    datapoints = tmp_path / "bad.json"
    datapoints.write_text(
        json.dumps([{"type": "ip", "id": EID, "attr": "asn", "v": "not a number", "src": SOURCE}])
    )
    bad_value = dp3_sh("datapoints", str(datapoints))
    assert (bad_value.code, bad_value.out) == (1, "")
    detail = json.loads(bad_value.err)["detail"]
    assert detail[0]["loc"][:3] == ["body", 0, "v"], detail

    # an unknown entity type: DP³'s 422 on the path parameter
    unknown_type = dp3_sh("entity", "nosuchtype", "list")
    assert (unknown_type.code, unknown_type.out) == (1, "")
    [problem] = json.loads(unknown_type.err)["detail"]
    assert problem["loc"] == ["path", "etype"]
    assert problem["msg"].endswith("Entity type 'nosuchtype' doesn't exist"), problem
