"""Loading the configuration directory, and ``check-config`` on good and broken copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from streamcore.cli import main
from streamcore.config import load_config
from streamcore.config.samples import EXAMPLE_CONFIG_DIR
from streamcore.errors import ConfigError
from streamcore.model import AttrSpecObservations, AttrType


def test_example_config_loads_with_dp3_names() -> None:
    config = load_config(EXAMPLE_CONFIG_DIR)
    model = config.model_spec
    assert set(model.entities) == {"ip", "device", "domain", "person"}
    hostname = model.attr("ip", "hostname")
    assert isinstance(hostname, AttrSpecObservations)
    assert hostname.t == AttrType.OBSERVATIONS and hostname.multi_value and hostname.confidence
    assert ("ip", "device") in model.relations and model.relations[
        "ip", "device"
    ].relation_to == "device"
    assert model.attr("device", "addresses").data_type.root == "set<link<ip>>"  # implicit mirror
    assert set(model.attr("ip", "flows").series) == {"packets", "time_first", "time_last"}
    platform = config.platform_config("app", process_index=1)
    assert platform.num_processes == 2 and platform.app_name == "app"
    assert platform.config.get("modules.ports.well_known") == {22: "ssh", 80: "http", 443: "https"}
    assert platform.config.get("snapshots.creation_rate.minute") == "*/30"


def test_check_config_passes_on_the_example() -> None:
    result = CliRunner().invoke(main, ["check-config", str(EXAMPLE_CONFIG_DIR)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 4 entity types")


def _broken_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(EXAMPLE_CONFIG_DIR, target)
    ip = target / "db_entities" / "ip.yml"
    text = ip.read_text()
    text = text.replace("data_type: int64\n", "data_type: int65\n", 1)
    text = text.replace(
        "type: timeseries\n    timeseries_type: regular",
        "type: timeseries\n    timeseries_type: sometimes",
        1,
    )
    text = text.replace("data_type: link<device; mirror=addresses>", "data_type: link<router>")
    ip.write_text(text)
    (target / "processing_core.yml").write_text(
        "worker_processes: 0\nenabled_modules: [ghost]\nwokers: 1\n"
    )
    (target / "snapshots.yml").write_text("creation_rate: {minute: 'every'}\n")
    (target / "control.yml").write_text("allowed_actions: [reboot]\n")
    (target / "modules" / "ports.yml").write_text("- not\n- a mapping\n")
    (target / "db_entities" / "broken.yml").write_text("entity: {id: x\n")
    (target / "db_entities" / "dup.yml").write_text(
        "entity: {id: person, name: P, snapshot: false}\nattribs: {}\n"
    )
    return target


def test_check_config_reports_every_problem_with_file_and_key(tmp_path: Path) -> None:
    broken = _broken_copy(tmp_path)
    result = CliRunner().invoke(main, ["check-config", str(broken)])
    assert result.exit_code == 1
    expected = [
        "db_entities/ip.yml: attribs.bytes_total.data_type: unknown data type 'int65'",
        "db_entities/ip.yml: attribs.traffic.timeseries_type: Input should be 'regular'",
        "db_entities/ip.yml: attribs.device.data_type: links to unknown entity type 'router'",
        "db_entities/broken.yml: line 2: invalid YAML",
        "db_entities/person.yml: entity.id: entity type 'person' is also defined in "
        "db_entities/dup.yml",
        "processing_core.yml: worker_processes: Input should be greater than 0",
        "snapshots.yml: creation_rate.minute: 'every' is not a cron field",
        "control.yml: allowed_actions.0: Input should be 'make_snapshots'",
        "modules/ports.yml: expected a mapping",
    ]
    for line in expected:
        assert line in result.output, f"missing {line!r} in:\n{result.output}"


def test_an_unknown_key_is_accepted_as_dp3_accepts_it_and_named_as_a_warning(
    tmp_path: Path,
) -> None:
    target = tmp_path / "config"
    shutil.copytree(EXAMPLE_CONFIG_DIR, target)
    core = target / "processing_core.yml"
    core.write_text(core.read_text() + "wokers: 2\n")
    result = CliRunner().invoke(main, ["check-config", str(target)])
    assert result.exit_code == 0, result.output
    assert (
        "warning: processing_core.yml: wokers: unknown key, ignored (as DP³ ignores it)"
        in result.output
    )
    assert "did you mean" in result.output.split("wokers", 1)[1].splitlines()[0]


def test_load_config_raises_with_all_problems(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_broken_copy(tmp_path))
    assert len(info.value.problems) == 9  # the unknown key is a check-config warning


def test_missing_directory_and_empty_entities(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        load_config(tmp_path / "absent")
    with pytest.raises(ConfigError, match=r"no entity files"):
        load_config(tmp_path)


def test_enabled_modules_must_exist(tmp_path: Path) -> None:
    target = tmp_path / "config"
    shutil.copytree(EXAMPLE_CONFIG_DIR, target)
    (tmp_path / "modules").mkdir()
    (tmp_path / "modules" / "present.py").write_text("")
    (target / "processing_core.yml").write_text("enabled_modules: [present, ghost]\n")
    with pytest.raises(ConfigError) as info:
        load_config(target)
    assert [str(p) for p in info.value.problems] == [
        "processing_core.yml: enabled_modules.1: "
        f"module 'ghost' not found in {tmp_path / 'modules'}"
    ]


def test_mirror_attribute_defined_explicitly_is_an_error(tmp_path: Path) -> None:
    target = tmp_path / "config"
    shutil.copytree(EXAMPLE_CONFIG_DIR, target)
    device = target / "db_entities" / "device.yml"
    device.write_text(
        device.read_text() + "\n  addresses:\n    name: A\n    type: plain\n    data_type: string\n"
    )
    with pytest.raises(ConfigError, match=r"mirror attribute 'device.addresses' is defined"):
        load_config(target)
