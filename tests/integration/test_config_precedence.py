"""Which configuration a module runs, by one rule: the newest change wins, and a changed
file is a change. A refresh replays to a restarted replica whose file is the one the
refresh was made over; a replica started with an edited file runs the file;
``reset_module_config`` returns every replica to its file, restarts included;
``streamcore control status`` says per replica which version runs and where from."""

from __future__ import annotations

import shutil
from pathlib import Path

from control_support import CONFIG, cli, new_replica, serving, tagger
from support import application

from streamcore.config import load_config
from streamcore.runtime import Runtime
from streamcore.settings import Settings


def edited_config(tmp_path: Path, prefix: str) -> Path:
    """A copy of the control config whose tagger file says ``prefix`` (a helm upgrade)."""
    target = tmp_path / f"config-{prefix}"
    shutil.copytree(CONFIG, target)
    (target / "modules" / "tagger.yml").write_text(f'prefix: "{prefix}"\n')
    return target


def test_refresh_replays_over_the_same_file_and_loses_to_an_edited_one(
    settings: Settings, app_name: str, keyspace: str, tmp_path: Path
) -> None:
    with application(settings, app_name, keyspace, config=CONFIG) as runtime:
        first = new_replica(runtime, "replica-a")
        with serving(first):
            refreshed = tmp_path / "v1.yml"
            refreshed.write_text('prefix: "v1-"\n')
            result = cli(
                runtime,
                *("refresh_module_config", str(CONFIG), "--module", "tagger"),
                *("--module-config", str(refreshed)),
            )
            assert result.exit_code == 0, result.output
            assert tagger(first).prefix == "v1-"

        same_file = new_replica(runtime, "replica-b")
        with serving(same_file):
            assert tagger(same_file).prefix == "v1-"  # the refresh is replayed
            assert same_file.listener.configs.sources["tagger"].startswith("control offset")

        edited = Runtime(
            runtime.settings,
            load_config(edited_config(tmp_path, "v2-")),
            runtime.app_name,
            runtime.session,
        )
        upgraded = new_replica(edited, "replica-c")
        with serving(upgraded):
            assert tagger(upgraded).prefix == "v2-"  # the edited file wins
            assert upgraded.listener.configs.sources["tagger"] == "file"
            assert upgraded.listener.configs.versions["tagger"] == 0

            status = cli(runtime, "status", str(CONFIG))
            assert status.exit_code == 0, status.output
            assert "replica-c (worker):" in status.output
            assert "tagger v0 (file, file " in status.output


def test_reset_returns_every_replica_to_its_file_and_survives_a_restart(
    settings: Settings, app_name: str, keyspace: str, tmp_path: Path
) -> None:
    with application(settings, app_name, keyspace, config=CONFIG) as runtime:
        refreshed = tmp_path / "v1.yml"
        refreshed.write_text('prefix: "v1-"\n')
        first, second = new_replica(runtime, "replica-a"), new_replica(runtime, "replica-b")
        with serving(first), serving(second):
            result = cli(
                runtime,
                *("refresh_module_config", str(CONFIG), "--module", "tagger"),
                *("--module-config", str(refreshed)),
            )
            assert result.exit_code == 0, result.output
            assert tagger(first).prefix == tagger(second).prefix == "v1-"

            reset = cli(runtime, "reset_module_config", str(CONFIG), "--module", "tagger")
            assert reset.exit_code == 0, reset.output
            assert "replica-a (worker): applied" in reset.output
            assert "replica-b (worker): applied" in reset.output
            for replica in (first, second):
                assert tagger(replica).prefix == "v0-"  # tagger.yml's
                assert replica.listener.configs.sources["tagger"].startswith("file (reset at")
                assert tagger(replica).refresh.isset()  # refresh= hooks re-run, as a change

        restarted = new_replica(runtime, "replica-c")
        with serving(restarted):
            assert tagger(restarted).prefix == "v0-"
            assert restarted.listener.configs.sources["tagger"].startswith("file (reset at")

        missing = cli(runtime, "reset_module_config", str(CONFIG))
        assert missing.exit_code == 1
        assert "reset_module_config needs --module" in missing.output
