"""``check-config`` loads the modules in a dry run, validates every DP³ file, warns about
settings it ignores, and suggests the closest name for a misspelling."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from streamcore.cli import main
from streamcore.config.samples import EXAMPLE_CONFIG_DIR, example_model
from streamcore.errors import InvalidDataPointError
from streamcore.model.datapoint import DataPoint, DataPointTask

MODULE = """\
from streamcore import BaseModule


class Checked(BaseModule):
    def __init__(self, platform_config, module_config, registrar):
        super().__init__(platform_config, module_config, registrar)
        registrar.register_on_new_attr_hook(self.hook, "ip", "{attr}")

    def hook(self, eid, dp):
        return []
"""


def _app(tmp_path: Path, modules: dict[str, str]) -> Path:
    """A copy of the example config whose enabled modules are ``modules`` (name -> code)."""
    config = tmp_path / "config"
    shutil.copytree(EXAMPLE_CONFIG_DIR, config)
    (tmp_path / "modules").mkdir()
    for name, code in modules.items():
        (tmp_path / "modules" / f"{name}.py").write_text(code)
    names = ", ".join(modules)
    (config / "processing_core.yml").write_text(f"enabled_modules: [{names}]\n")
    for path in (config / "modules").glob("*.yml"):
        path.unlink()
    return config


def _check(config: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["check-config", str(config)])
    return result.exit_code, result.output.splitlines()


def test_a_working_module_passes(tmp_path: Path) -> None:
    code, lines = _check(_app(tmp_path, {"good": MODULE.format(attr="hostname")}))
    assert code == 0, lines
    assert lines[-1].startswith("OK: 4 entity types") and "loaded in a dry run" in lines[-1]


def test_every_broken_module_is_reported_at_its_line(tmp_path: Path) -> None:
    modules = {
        "typo": MODULE.format(attr="hostnme"),
        "syntax": "from streamcore import BaseModule\n\nclass Broken(BaseModule)\n    pass\n",
        "missing": "import no_such_package_here\n",
    }
    code, lines = _check(_app(tmp_path, modules))
    assert code == 1
    errors = [line for line in lines if line.startswith("error: ")]
    by_module = {name: [e for e in errors if f"modules/{name}.py:" in e] for name in modules}
    (typo,) = by_module["typo"]
    assert typo.split(": ", 2)[1].endswith("modules/typo.py:7")  # the register call
    assert "ip/hostnme" in typo and "(did you mean 'hostname'?)" in typo
    (syntax,) = by_module["syntax"]
    assert "modules/syntax.py:3: syntax error: " in syntax
    (missing,) = by_module["missing"]
    assert "modules/missing.py:1: " in missing and "no_such_package_here" in missing
    assert lines[-1] == f"3 problem(s) loading the modules of {tmp_path / 'config'}"


def test_an_invalid_garbage_collector_file_fails_check_config(tmp_path: Path) -> None:
    config = _app(tmp_path, {})
    (config / "garbage_collector.yml").write_text("collection_rate: {minute: often}\n")
    code, lines = _check(config)
    assert code == 1
    wanted = "error: garbage_collector.yml: collection_rate.minute: 'often' is not a cron field"
    assert any(line.startswith(wanted) for line in lines), lines


def test_accepted_but_ignored_settings_are_warnings(tmp_path: Path) -> None:
    config = _app(tmp_path, {"port_risk": MODULE.format(attr="hostname")})
    (config / "database.yml").write_text("connection: {db_name: x}\n")
    (config / "snapshot.yml").write_text("creation_rate: {minute: 5}\n")
    (config / "processing_core.yml").write_text(
        "enabled_modules: [port_risk]\nmsg_broker: {host: rabbit}\nworker_threads: 8\n"
    )
    (config / "modules" / "port_rsk.yml").write_text("a: 1\n")
    code, lines = _check(config)
    assert code == 0, lines
    warnings = [line for line in lines if line.startswith("warning: ")]
    assert warnings == [
        "warning: database.yml: accepted and ignored: MongoDB connection; streamcore stores in "
        "Cassandra (STREAMCORE_CASSANDRA__*)",
        "warning: processing_core.yml: msg_broker: accepted and ignored: RabbitMQ; streamcore "
        "uses Kafka (STREAMCORE_KAFKA__*)",
        "warning: processing_core.yml: worker_threads: accepted and ignored: a worker "
        "processes one batch at a time",
        "warning: snapshot.yml: not a DP³ configuration file; only modules read it "
        "(PlatformConfig.config) (did you mean 'snapshots'?)",
        "warning: modules/port_rsk.yml: configuration of a module that is not enabled "
        "(did you mean 'port_risk'?)",
    ]


def test_the_example_has_no_warnings() -> None:
    code, lines = _check(EXAMPLE_CONFIG_DIR)
    assert code == 0 and not [line for line in lines if line.startswith("warning")], lines


def test_a_misspelled_enabled_module_gets_a_suggestion(tmp_path: Path) -> None:
    config = _app(tmp_path, {"port_risk": MODULE.format(attr="hostname")})
    (config / "processing_core.yml").write_text("enabled_modules: [port_rsik]\n")
    code, lines = _check(config)
    assert code == 1
    assert any(
        "module 'port_rsik' not found" in line and "(did you mean 'port_risk'?)" in line
        for line in lines
    ), lines


def test_validation_suggests_the_closest_attribute_and_entity_type() -> None:
    model = example_model()
    task = DataPointTask("ip", "192.0.2.1", [DataPoint("ip", "192.0.2.1", "hostnme", "h")])
    with pytest.raises(InvalidDataPointError, match=r"\(did you mean 'hostname'\?\)"):
        model.validate_task(task)
    with pytest.raises(InvalidDataPointError, match=r"\(did you mean 'ip'\?\)"):
        model.validate_task(DataPointTask("ipp", "192.0.2.1", []))
    nothing_close = DataPointTask("ip", "192.0.2.1", [DataPoint("ip", "192.0.2.1", "zzz", 1)])
    with pytest.raises(InvalidDataPointError, match=r"unknown attribute 'zzz'$"):
        model.validate_task(nothing_close)


def test_max_items_is_pointed_out_and_not_enforced_unless_opted_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _app(tmp_path, {})
    ip = config / "db_entities" / "ip.yml"
    ip.write_text(
        ip.read_text().replace(
            "      max_age: 14d\n", "      max_age: 14d\n      max_items: 3\n", 1
        )
    )
    code, lines = _check(config)
    assert code == 0, lines
    (note,) = [line for line in lines if "max_items" in line]
    assert note.startswith("warning: db_entities (ip): ")
    assert "max_items=3 not enforced, as in DP³" in note
    monkeypatch.setenv("STREAMCORE_WORKER__ENFORCE_MAX_ITEMS", "true")
    _, lines = _check(config)
    (note,) = [line for line in lines if "max_items" in line]
    assert "max_items=3 enforced" in note
