"""The configuration ``DevPrometheus`` writes, and the marker its process is known by."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamcore.dev.process import ManagedProcess
from streamcore.dev.prometheus import DevPrometheus


def test_targets_are_grouped_into_one_scrape_job_each(tmp_path: Path) -> None:
    rules = tmp_path / "alerts.yml"
    prometheus = DevPrometheus(
        tmp_path,
        9999,
        [("worker", "127.0.0.1:1"), ("scheduler", "127.0.0.1:2"), ("worker", "127.0.0.1:3")],
        scrape_interval="1s",
        rule_files=[rules],
    )
    config = prometheus.config()
    assert config["global"] == {"scrape_interval": "1s", "evaluation_interval": "1s"}
    assert config["rule_files"] == [str(rules)]
    assert config["scrape_configs"] == [
        {"job_name": "worker", "static_configs": [{"targets": ["127.0.0.1:1", "127.0.0.1:3"]}]},
        {"job_name": "scheduler", "static_configs": [{"targets": ["127.0.0.1:2"]}]},
    ]
    assert prometheus.process.marker == f"--storage.tsdb.path={tmp_path.resolve() / 'data'}"


def test_a_command_without_its_own_marker_is_refused(tmp_path: Path) -> None:
    process = ManagedProcess("tool", tmp_path, marker="--data=/somewhere")
    with pytest.raises(ValueError, match="marker"):
        process.start(["true", "--data=/elsewhere"])
    assert not process.pid_file.exists()
