"""DP³'s own published package (``dp-cubed`` from PyPI, in a venv of its own under
``.streamcore/``) reads and writes against streamcore's API, and DP³'s response models
accept every answer.

DP³'s shell client ``dp3 sh`` is not in the published package (0.10.0 has ``worker``,
``api``, ``setup``, ``check``, ``config``, ``schema-update``), so the client here is DP³'s
response models driven by ``requests``, as ``dp3 sh`` does it.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import API_CONFIG, ApiHarness, api_harness, ingest_worker
from support import wait_for

from streamcore.settings import Settings

pytestmark = [pytest.mark.kafka, pytest.mark.cassandra]

ROOT = Path(__file__).resolve().parents[2]
DP3_VENV = ROOT / ".streamcore" / "dp3-venv"
DP3_PACKAGE = "dp-cubed==0.10.0"
IN_CI = __import__("os").environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="module")
def dp3_python() -> Path:
    """DP³'s package in its own venv (installed once; under CI a failed install fails)."""
    python = DP3_VENV / "bin" / "python"
    marker = DP3_VENV / ".installed"
    if not marker.exists() or marker.read_text() != DP3_PACKAGE:
        try:
            subprocess.run([sys.executable, "-m", "venv", str(DP3_VENV)], check=True)
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", DP3_PACKAGE],
                check=True,
                timeout=600,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            if IN_CI:
                pytest.fail(f"installing {DP3_PACKAGE} failed: {exc}")
            pytest.skip(f"installing {DP3_PACKAGE} failed: {exc}")
        marker.write_text(DP3_PACKAGE)
    return python


@pytest.fixture
def served(settings: Settings, app_name: str, keyspace: str) -> Iterator[tuple[ApiHarness, str]]:
    """The API on uvicorn on a free port, for a client in another process."""
    import socket

    import uvicorn

    with api_harness(settings, app_name, keyspace) as harness:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(harness.client.app, host="127.0.0.1", port=port, log_config=None)
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            yield harness, f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(10)


def test_dp3_package_reads_and_writes(dp3_python: Path, served: tuple[ApiHarness, str]) -> None:
    harness, url = served
    eid = "192.0.2.44"
    with ingest_worker(harness):
        harness.client.post(
            "/datapoints", json=[{"type": "ip", "id": eid, "attr": "note", "v": "seed"}]
        )
        wait_for(lambda: harness.client.get(f"/entity/ip/{eid}/master").json(), 30)
        from datetime import UTC, datetime

        harness.snapshot("ip", {eid: {"note": "seed"}}, datetime.now(UTC))
        script = Path(__file__).with_name("dp3_client_check.py")
        result = subprocess.run(
            [str(dp3_python), str(script), url, str(API_CONFIG), "ip", eid, "note"],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.count("ok ") == 11
        wait_for(
            lambda: (
                harness.client.get(f"/entity/ip/{eid}/get/note").json()["current_value"]
                == "pushed by dp3 client"
            ),
            30,
        )
