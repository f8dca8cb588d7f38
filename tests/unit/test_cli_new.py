"""``streamcore new``: the generated application passes check-config and its own tests,
run with the commands its README gives (in a fresh process, from the application's
directory, as a user would)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from streamcore.cli import main


def readme_command(readme: str, after: str) -> str:
    """The first command of the bash block following the sentence starting ``after``."""
    found = re.search(re.escape(after) + r".*?```bash\n(.*?)\n", readme, re.DOTALL)
    assert found, f"no command after {after!r} in the README"
    return found.group(1)


def run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    return subprocess.run(
        command,
        shell=True,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.fixture
def demo_app(tmp_path: Path) -> Path:
    result = run("streamcore new demo-app", tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path / "demo-app"


def test_new_app_passes_check_config_and_its_tests(demo_app: Path) -> None:
    readme = (demo_app / "README.md").read_text()
    check = run(readme_command(readme, "Check the configuration"), demo_app)
    assert check.returncode == 0, check.stderr
    assert "1 enabled modules (loaded in a dry run)" in check.stdout
    tests = run(readme_command(readme, "Run the module's tests"), demo_app)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "2 passed" in tests.stdout


def test_values_carry_the_generated_files(demo_app: Path) -> None:
    values = yaml.safe_load((demo_app / "values.yaml").read_text())
    assert values["appName"] == "demo-app"
    for name, text in values["config"]["files"].items():
        assert (demo_app / "config" / name).read_text() == text
    assert values["modules"]["files"]["labeler.py"] == (demo_app / "modules/labeler.py").read_text()


def test_new_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "keep.txt").write_text("mine")
    result = CliRunner().invoke(main, ["new", str(tmp_path / "app")])
    assert result.exit_code == 1 and "not empty" in result.output
    assert (tmp_path / "app" / "keep.txt").read_text() == "mine"
