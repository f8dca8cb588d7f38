"""Fixtures for the Helm chart tests: the tools in .tools/ and the rendered chart.

The tools come from ``scripts/install-helm-tools.sh``. When they are missing the tests are
skipped with that hint, except under ``CI=true``, where a missing tool fails the run: a green
CI must mean the chart was really checked.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import yaml
from chart_harness import ALL_ON, ROOT, TOOLS, Chart, Rendered

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _missing(message: str) -> None:
    hint = f"{message}; run scripts/install-helm-tools.sh"
    if IN_CI:
        pytest.fail(f"CI=true: {hint}", pytrace=False)
    pytest.skip(hint)


@pytest.fixture(scope="session")
def chart() -> Chart:
    helm_bin = TOOLS / "bin" / "helm"
    kubeconform_bin = TOOLS / "bin" / "kubeconform"
    for tool in (helm_bin, kubeconform_bin):
        if not os.access(tool, os.X_OK):
            _missing(f"{tool.relative_to(ROOT)} is missing")
    schemas = TOOLS / "k8s-schemas"
    versions = sorted(p.name.removesuffix("-local") for p in schemas.glob("v*-local"))
    if not versions:
        _missing(f"no Kubernetes JSON schemas in {schemas.relative_to(ROOT)}")
    return Chart(helm_bin, kubeconform_bin, schemas, versions[-1].removeprefix("v"))


@pytest.fixture(scope="session")
def default(chart: Chart) -> Rendered:
    return chart.render()


@pytest.fixture(scope="session")
def all_on(chart: Chart) -> Rendered:
    return chart.render([ALL_ON])


@pytest.fixture(scope="session")
def all_on_values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load(ALL_ON.read_text())
    return values
