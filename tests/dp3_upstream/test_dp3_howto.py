"""DP³'s module-testing how-to, run as a DP³ user runs it: the example application's tests
(examples/dp3_howto, the how-to's code unchanged) in a fresh interpreter with the how-to's
command, ``python -m unittest`` swapped for ``python -m streamcore.testing.dp3``."""

import os
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "examples" / "dp3_howto"


def test_howto_module_tests_run_unchanged() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "streamcore.testing.dp3", "discover", "-s", "tests", "-v"],
        cwd=APP,
        env={**os.environ, "DP3_CONFIG_DIR": "config"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Ran 5 tests" in result.stderr and "OK" in result.stderr
