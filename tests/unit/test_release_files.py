"""The lock files pin, within pyproject's ranges, every dependency they must carry.

``scripts/lock`` writes them; a range changed in pyproject.toml without re-locking fails
here, before the Docker build or CI's bootstrap would install something else.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;\\]+)", re.MULTILINE)


def pins(lock: str) -> dict[str, set[Version]]:
    found: dict[str, set[Version]] = {}
    for match in PIN.finditer((ROOT / lock).read_text()):
        found.setdefault(canonicalize_name(match["name"]), set()).add(Version(match["version"]))
    return found


def requirements(*extras: str) -> list[Requirement]:
    project = PYPROJECT["project"]
    texts = list(project["dependencies"])
    for extra in extras:
        texts += project["optional-dependencies"][extra]
    return [r for r in map(Requirement, texts) if canonicalize_name(r.name) != "streamcore"]


@pytest.mark.parametrize(
    ("lock", "extras"),
    [("requirements.lock", ()), ("requirements-dev.lock", ("dev", "devservers"))],
)
def test_every_dependency_is_pinned_within_its_range(lock: str, extras: tuple[str, ...]) -> None:
    pinned = pins(lock)
    for requirement in requirements(*extras):
        versions = pinned.get(canonicalize_name(requirement.name))
        assert versions, f"{requirement.name} is not in {lock}: run scripts/lock"
        outside = [v for v in versions if v not in requirement.specifier]
        assert not outside, f"{lock} pins {requirement.name} {outside}, outside {requirement}"


def test_every_runtime_dependency_has_a_lower_and_an_upper_bound() -> None:
    for requirement in requirements():
        operators = {spec.operator for spec in requirement.specifier}
        assert ">=" in operators and "<" in operators, requirement


def test_the_lock_carries_hashes_and_the_license_is_the_declared_one() -> None:
    assert "--hash=sha256:" in (ROOT / "requirements.lock").read_text()
    assert PYPROJECT["project"]["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
