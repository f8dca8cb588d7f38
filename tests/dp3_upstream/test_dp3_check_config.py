"""DP³'s own configuration directories pass ``streamcore check-config`` as shipped.

``test_config`` and ``test_example/config`` are DP³'s ``tests/test_config`` and
``tests/test_example/config`` (the first's ``modules_dir`` is ``/dp3/tests/modules``,
absent here: a warning, as ``dp3 check`` accepts it); ``template_app`` is the application
``dp3 setup`` creates (its module imports ``dp3.common``, so DP³ compatibility is on).
"""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from streamcore.cli import main

HERE = Path(__file__).parent


def check(config_dir: Path, monkeypatch: pytest.MonkeyPatch, dp3: bool) -> tuple[int, str]:
    monkeypatch.setenv("STREAMCORE_DP3_COMPAT", "true" if dp3 else "false")
    result = CliRunner().invoke(main, ["check-config", str(config_dir)])
    return result.exit_code, result.output


def test_dp3_test_config_passes_with_missing_modules_dir_as_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, output = check(HERE / "test_config", monkeypatch, dp3=False)
    assert code == 0, output
    assert "warning: processing_core.yml: modules_dir: directory" in output
    assert "OK: 11 entity types" in output
    assert "accepted and ignored: MongoDB connection" in output


def test_dp3_template_application_passes_and_its_module_loads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, output = check(HERE / "template_app" / "config", monkeypatch, dp3=True)
    assert code == 0, output
    assert "1 enabled modules (loaded in a dry run)" in output


def test_dp3_module_without_compat_fails_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamcore.module.compat import uninstall_dp3_compat

    uninstall_dp3_compat()
    code, output = check(HERE / "template_app" / "config", monkeypatch, dp3=False)
    assert code == 1
    assert "hint: DP³ modules load with STREAMCORE_DP3_COMPAT=true" in output


def test_unknown_keys_dp3_ignores_are_accepted_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """DP³'s history_params/timeseries_params/series models ignore unknown keys."""
    config = tmp_path / "config"
    shutil.copytree(HERE / "test_config", config)
    entity = config / "db_entities" / "test_entity_type.yml"
    text = entity.read_text().replace(
        "      aggregate: true", "      aggregate: true\n      agregate: 1"
    )
    entity.write_text(text)
    code, output = check(config, monkeypatch, dp3=False)
    assert code == 0, output
    assert "attribs.test_attr_history.history_params.agregate: unknown key, ignored" in output


def test_dp3_example_config_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """DP³'s tests/test_example/config (no modules enabled)."""
    code, output = check(HERE / "test_example" / "config", monkeypatch, dp3=False)
    assert code == 0, output
    assert "OK: 1 entity types" in output


def test_missing_modules_dir_fails_when_a_worker_loads_the_modules() -> None:
    from streamcore.config import load_config
    from streamcore.errors import ModuleLoadError
    from streamcore.module import load_modules

    config = load_config(HERE / "test_config")
    with pytest.raises(ModuleLoadError, match="/dp3/tests/modules/test_module.py"):
        load_modules(config.platform_config("test"))
