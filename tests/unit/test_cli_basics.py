"""``--version``, shell completion as the README documents it, and one variable that moves
every dev port."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner

from streamcore.cli import main
from streamcore.dev.layout import DevSettings, SecureDevSettings
from streamcore.settings import Settings

STREAMCORE = Path(sys.executable).with_name("streamcore")


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"streamcore, version {version('streamcore')}\n"


def _complete(words: str, shell: str = "bash") -> list[str]:
    env = {
        **os.environ,
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
        "_STREAMCORE_COMPLETE": f"{shell}_complete",
    }
    out = subprocess.run([STREAMCORE], env=env, capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def test_completion_as_documented() -> None:
    script = subprocess.run(
        [STREAMCORE],
        env={**os.environ, "_STREAMCORE_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "complete -o nosort -F _streamcore_completion streamcore" in script
    assert _complete("streamcore en") == ["plain,entity"]
    assert _complete("streamcore tail d") == ["plain,dead-letter"]


def test_one_port_base_moves_every_dev_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMCORE_DEV_PORT_BASE", "21000")
    monkeypatch.setenv("STREAMCORE_DEV_CASSANDRA_JMX_PORT", "21999")  # set alone: it wins
    dev = DevSettings()
    ports = {name: getattr(dev, name) for name in DevSettings.PORT_OFFSETS}
    assert ports == {
        "kafka_port": 21092,
        "kafka_controller_port": 21093,
        "kafka_secure_port": 21094,
        "cassandra_port": 21042,
        "cassandra_storage_port": 21070,
        "cassandra_jmx_port": 21999,
        "registry_port": 21081,
        "registry_management_port": 21082,
    }
    secure = SecureDevSettings()
    assert (secure.kafka_port, secure.cassandra_port, secure.cassandra_jmx_port) == (
        21192,
        21142,
        21171,
    )
    app = Settings()  # the application's defaults follow the dev servers
    assert app.kafka.bootstrap_servers == "127.0.0.1:21092"
    assert app.cassandra.port == 21042
    assert app.schema_registry.url == "http://127.0.0.1:21081/apis/ccompat/v7"


def test_without_a_port_base_the_defaults_stay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMCORE_DEV_PORT_BASE", raising=False)
    for name in ("KAFKA_PORT", "CASSANDRA_PORT", "CASSANDRA_STORAGE_PORT"):
        monkeypatch.delenv(f"STREAMCORE_DEV_{name}", raising=False)
    dev = DevSettings()
    assert (dev.kafka_port, dev.cassandra_port, dev.cassandra_storage_port) == (19092, 19042, 17000)
    assert Settings().kafka.bootstrap_servers == "127.0.0.1:19092"
