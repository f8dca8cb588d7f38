"""The ``values.yaml`` of ``streamcore new`` renders with the chart (schema included) and
puts the application's config and module in the ConfigMaps the pods mount."""

from pathlib import Path

from chart_harness import Chart
from click.testing import CliRunner

from streamcore.cli import main


def test_new_app_values_render(chart: Chart, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["new", str(tmp_path / "demo-app")])
    assert result.exit_code == 0, result.output
    rendered = chart.render([tmp_path / "demo-app" / "values.yaml"])
    data = {
        key: value
        for config_map in rendered.all("ConfigMap")
        for key, value in (config_map.get("data") or {}).items()
    }
    assert any("labeler" in value for value in data.values() if "enabled_modules" in value)
    assert any("class Labeler(BaseModule)" in value for value in data.values())
