"""Timeseries definitions DP³ accepts but cannot store data of (no series; regular without
time_step): accepted by the model and check-config (with a warning), every data-point of
theirs refused with the reason, as DP³ fails on them."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from streamcore.cli import main
from streamcore.config.samples import EXAMPLE_CONFIG_DIR
from streamcore.errors import InvalidDataPointError
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.testing import model_spec_from_dicts

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ATTRIBS = {
    "bare": {"name": "bare", "type": "timeseries", "timeseries_type": "irregular", "series": {}},
    "stepless": {
        "name": "stepless",
        "type": "timeseries",
        "timeseries_type": "regular",
        "series": {"bytes": {"data_type": "int"}},
    },
}


def model() -> dict[str, dict[str, object]]:
    return {
        "probe": {"entity": {"id": "probe", "name": "P", "snapshot": False}, "attribs": ATTRIBS}
    }


@pytest.mark.parametrize(
    ("attr", "v", "reason"),
    [
        ("bare", {"time": [NOW]}, "the timeseries declares no series"),
        ("stepless", {"bytes": [1]}, "the regular timeseries has no timeseries_params.time_step"),
    ],
)
def test_the_model_loads_and_their_data_points_are_refused(
    attr: str, v: dict[str, list[object]], reason: str
) -> None:
    spec = model_spec_from_dicts(model())
    task = DataPointTask("probe", "p1", [DataPoint("probe", "p1", attr, v, NOW, NOW)])
    with pytest.raises(InvalidDataPointError, match=reason):
        spec.validate_task(task)


def test_check_config_accepts_them_with_a_warning(tmp_path: Path) -> None:
    target = tmp_path / "config"
    shutil.copytree(EXAMPLE_CONFIG_DIR, target)
    (target / "db_entities" / "probe.yml").write_text(yaml.safe_dump(model()["probe"]))
    result = CliRunner().invoke(main, ["check-config", str(target)])
    assert result.exit_code == 0, result.output
    assert "attribs.bare: the timeseries declares no series: accepted as DP³" in result.output
    assert "attribs.stepless: the regular timeseries has no timeseries_params.time_step" in (
        result.output
    )
