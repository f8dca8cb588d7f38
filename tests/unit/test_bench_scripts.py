"""Every benchmark script still starts: its imports (our modules, the sibling bench
modules it shares a load or a clock with) resolve and its options parse. Benchmarks are
not run in CI, so a renamed helper would otherwise break one unnoticed (as
``bench/metrics_overhead.py`` was, importing names ``bench/ingest.py`` no longer had)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCRIPTS = sorted(p for p in BENCH.glob("*.py") if "__main__" in p.read_text())


def test_every_script_is_found() -> None:
    assert {"ingest.py", "metrics_overhead.py", "produce.py", "snapshots.py"} <= {
        p.name for p in SCRIPTS
    }


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_starts(script: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(script), "--help"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:")
