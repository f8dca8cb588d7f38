"""Model changes against a running application's stored model, on the real servers: setup
stores the model; check-config --against lists what a change needs; setup applies a safe
change and refuses an unsafe one unless told to accept it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from streamcore.cli import main
from streamcore.config.samples import EXAMPLE_CONFIG_DIR
from streamcore.settings import Settings, app_keyspace

pytestmark = [pytest.mark.kafka, pytest.mark.cassandra]


@pytest.fixture
def app(settings: Settings, app_name: str, cassandra_session: Any) -> Iterator[str]:
    yield app_name
    cassandra_session.execute(f"DROP KEYSPACE IF EXISTS {app_keyspace(app_name)}", timeout=60)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(EXAMPLE_CONFIG_DIR, target)
    (tmp_path / "modules").symlink_to(EXAMPLE_CONFIG_DIR.parent / "modules")
    return target


def cli(settings: Settings, *args: str) -> Any:
    env = {
        "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "STREAMCORE_CASSANDRA__PORT": str(settings.cassandra.port),
        "STREAMCORE_CASSANDRA__KEYSPACE": "",
    }
    return CliRunner().invoke(main, list(args), env=env)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_setup_stores_the_model_and_applies_only_safe_changes(
    settings: Settings, app: str, config_dir: Path
) -> None:
    first = cli(settings, "setup", str(config_dir), "--app-name", app)
    assert first.exit_code == 0, first.output
    assert "model stored" in first.output
    same = cli(settings, "check-config", str(config_dir), "--against", app)
    assert same.exit_code == 0, same.output
    assert f"model: unchanged from the one {app} stored" in same.output

    ip = config_dir / "db_entities" / "ip.yml"
    edit(
        ip,
        "attribs:\n",
        "attribs:\n  note2:\n    name: note2\n    type: plain\n    data_type: string\n",
    )
    added = cli(settings, "check-config", str(config_dir), "--against", app)
    assert added.exit_code == 0, added.output
    assert "model: safe: ip.note2: new attribute: nothing" in added.output
    applied = cli(settings, "setup", str(config_dir), "--app-name", app)
    assert applied.exit_code == 0, applied.output

    edit(
        ip,
        "  note2:\n    name: note2\n    type: plain\n    data_type: string\n",
        "  note2:\n    name: note2\n    type: plain\n    data_type: int\n",
    )
    retyped = cli(settings, "check-config", str(config_dir), "--against", app)
    assert retyped.exit_code == 1
    assert (
        "model: UNSAFE: ip.note2: data type string -> int: the stored values of ip.note2 "
        "(written as string) become unreadable" in retyped.output
    )
    refused = cli(settings, "setup", str(config_dir), "--app-name", app)
    assert refused.exit_code == 1 and "nothing was changed" in refused.output
    still = cli(settings, "check-config", str(config_dir), "--against", app)
    assert "UNSAFE: ip.note2" in still.output  # the stored model is still the applied one
    accepted = cli(settings, "setup", str(config_dir), "--app-name", app, "--accept-unreadable")
    assert accepted.exit_code == 0, accepted.output
    after = cli(settings, "check-config", str(config_dir), "--against", app)
    assert after.exit_code == 0 and "unchanged" in after.output
