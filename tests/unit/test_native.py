"""The compiled hot path (streamcore/native.py): used only when built from the current
sources, and never with STREAMCORE_NATIVE=0 (the pure-Python fallback CI runs too)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from streamcore import native

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

PROBE = (
    "import streamcore, streamcore.native as n, streamcore.state.merge as m, "
    "streamcore.ingest.processor as p; print(n.status.loaded, m.__file__, p.__file__)"
)


def probe(**env: str) -> tuple[bool, list[str]]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out[0] == "True", out[1:]


def test_a_fresh_build_is_what_streamcore_imports() -> None:
    files, why = native.fresh_build(native.BUILD_DIR)
    if files is None:
        if IN_CI:  # scripts/bootstrap builds it: CI must run the compiled code
            pytest.fail(f"CI without the compiled hot path: {why}")
        pytest.skip(why)
    loaded, paths = probe(STREAMCORE_NATIVE="1")
    assert loaded
    for path in paths:
        assert Path(path).is_relative_to(native.BUILD_DIR), path
        assert not path.endswith(".py")


def test_streamcore_native_0_imports_the_source() -> None:
    loaded, paths = probe(STREAMCORE_NATIVE="0")
    assert not loaded
    assert [Path(p).suffix for p in paths] == [".py", ".py"]


def test_a_build_older_than_its_sources_is_not_used(tmp_path: Path) -> None:
    files, _ = native.fresh_build(native.BUILD_DIR)
    if files is None:
        pytest.skip("no compiled build to copy")
    build = tmp_path / "build"
    shutil.copytree(native.BUILD_DIR, build)
    assert native.fresh_build(build)[0] is not None
    stamp = json.loads((build / native.STAMP).read_text())
    stamp["sources"]["streamcore.state.merge"] = "0" * 64  # merge.py edited since
    (build / native.STAMP).write_text(json.dumps(stamp))
    files, why = native.fresh_build(build)
    assert files is None and "older than its sources" in why


def test_a_build_missing_a_module_or_its_stamp_is_not_used(tmp_path: Path) -> None:
    files, why = native.fresh_build(tmp_path)
    assert files is None and "no compiled build" in why
    stamp = {"sources": native.digest(native.NATIVE_MODULES)}
    (tmp_path / native.STAMP).write_text(json.dumps(stamp))
    files, why = native.fresh_build(tmp_path)
    assert files is None and "lacks streamcore.codec.reader" in why


def test_install_never_mixes_in_compiled_modules_once_sources_are_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files, _ = native.fresh_build(native.BUILD_DIR)
    if files is None:
        pytest.skip("no compiled build to copy")
    build = tmp_path / "build"
    shutil.copytree(native.BUILD_DIR, build)
    import streamcore.state.merge  # noqa: F401  (imported: from source or not, it stays)

    monkeypatch.setattr(native, "status", native.Status())
    finders = list(sys.meta_path)
    native.install(build)
    assert sys.meta_path == finders
    assert not native.status.loaded
