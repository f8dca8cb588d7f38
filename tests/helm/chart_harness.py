"""Runs helm and kubeconform from .tools/ against helm/streamcore (see conftest.py)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "streamcore"
TOOLS = ROOT / ".tools"
HERE = Path(__file__).resolve().parent
ALL_ON = HERE / "values-all-on.yaml"
CRD_SCHEMAS = HERE / "crd-schemas"
RELEASE = "sc-test"
NAMESPACE = "streaming"

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Rendered:
    """The objects of one `helm template`, looked up by kind and name."""

    objects: list[Manifest]

    def all(self, kind: str) -> list[Manifest]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str) -> Manifest:
        for obj in self.all(kind):
            if obj["metadata"]["name"] == name:
                return obj
        names = [o["metadata"]["name"] for o in self.all(kind)]
        raise AssertionError(f"no {kind} named {name!r}; there are {names}")

    def names(self, kind: str) -> set[str]:
        return {o["metadata"]["name"] for o in self.all(kind)}


@dataclass(frozen=True)
class Chart:
    """Runs helm and kubeconform from .tools/ against helm/streamcore."""

    helm_bin: Path
    kubeconform_bin: Path
    k8s_schemas: Path
    k8s_version: str

    def helm(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.helm_bin), *args], capture_output=True, text=True, timeout=120, check=False
        )

    def template_args(self, values: Sequence[Path] = (), sets: Sequence[str] = ()) -> list[str]:
        args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE]
        for path in values:
            args += ["--values", str(path)]
        for item in sets:
            args += ["--set", item]
        return args

    def template_text(self, values: Sequence[Path] = (), sets: Sequence[str] = ()) -> str:
        result = self.helm(*self.template_args(values, sets))
        assert result.returncode == 0, f"helm template failed:\n{result.stderr}"
        return result.stdout

    def render(self, values: Sequence[Path] = (), sets: Sequence[str] = ()) -> Rendered:
        text = self.template_text(values, sets)
        return Rendered([doc for doc in yaml.safe_load_all(text) if doc])

    def template_error(self, values: Sequence[Path] = (), sets: Sequence[str] = ()) -> str:
        """The error of a `helm template` that must fail."""
        result = self.helm(*self.template_args(values, sets))
        assert result.returncode != 0, f"helm template should have failed; got:\n{result.stdout}"
        return result.stderr

    def kubeconform(self, manifests: str) -> subprocess.CompletedProcess[str]:
        """Validate strictly and offline: only the local schema directories are consulted."""
        k8s = f"{self.k8s_schemas}/{{{{ .NormalizedKubernetesVersion }}}}-local{{{{ .StrictSuffix }}}}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json"  # noqa: E501
        crds = f"{CRD_SCHEMAS}/{{{{ .Group }}}}/{{{{ .ResourceKind }}}}_{{{{ .ResourceAPIVersion }}}}.json"  # noqa: E501
        return subprocess.run(
            [
                str(self.kubeconform_bin),
                "-strict",
                "-summary",
                "-output",
                "json",
                "-kubernetes-version",
                self.k8s_version,
                "-schema-location",
                k8s,
                "-schema-location",
                crds,
                "-",
            ],
            input=manifests,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
