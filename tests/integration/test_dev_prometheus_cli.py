"""``streamcore dev prometheus``: a real Prometheus that scrapes the targets it is given,
with the shipped alert rules loaded, stopped by ``--stop``."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from support import wait_for
from test_metrics_http import free_port

from streamcore.cli import main
from streamcore.dev.prometheus import DevPrometheus


def test_dev_prometheus_scrapes_its_targets_and_stops(
    tmp_path: Path, prometheus_binary: Path
) -> None:
    port = free_port()
    env = {"STREAMCORE_DEV_STATE_DIR": str(tmp_path)}
    runner = CliRunner()
    # Prometheus scrapes itself: a target that is surely up.
    args = ["dev", "prometheus", f"self=127.0.0.1:{port}", "--port", str(port), "--interval", "1s"]
    started = runner.invoke(main, args, env=env, catch_exceptions=False)
    client = DevPrometheus(tmp_path / "prometheus", port, [])
    try:
        assert started.exit_code == 0, started.output
        assert f"ready on http://127.0.0.1:{port}" in started.output
        up = wait_for(lambda: client.query('up{job="self"} == 1'), timeout=30)
        assert up[0]["metric"]["instance"] == f"127.0.0.1:{port}"
        assert "StreamcoreWorkerDown" in {rule["name"] for rule in client.rules()}
        again = runner.invoke(main, args, env=env, catch_exceptions=False)
        assert again.exit_code == 1 and "already runs" in again.output
    finally:
        stopped = runner.invoke(main, ["dev", "prometheus", "--stop"], env=env)
    assert stopped.output == "stopped prometheus\n"
    assert not client.process.is_running()


def test_a_target_without_a_job_is_refused() -> None:
    result = CliRunner().invoke(main, ["dev", "prometheus", "127.0.0.1:9100"])
    assert result.exit_code == 2
    assert "expected JOB=HOST:PORT" in result.output
