"""The compiled hot path: the modules below, built by mypyc (``scripts/build_native.py``,
run by ``scripts/bootstrap``) into ``.native/`` beside the package, and imported from there
instead of their source when that build is fresh.

The same source is the pure-Python fallback: without a build (no C compiler, a wheel
install), with a build older than any of its sources, or with ``STREAMCORE_NATIVE=0``, the
modules import from source as always. Only pure, typed modules are listed (the decoder,
model checks, merge, binding): nothing a module author subclasses or monkeypatches.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

NATIVE_MODULES = (
    "streamcore.codec.reader",
    "streamcore.codec.tasks",
    "streamcore.model.values",
    "streamcore.model.modelspec",
    "streamcore.ingest.processor",
    "streamcore.ingest.compact",
    "streamcore.ingest.cache",
    "streamcore.state.record",
    "streamcore.state.merge",
    "streamcore.state.encoding",
    "streamcore.state.binding",
    "streamcore.state.batches",
)
GROUP = "streamcore.native"
"""mypyc's group name: its shared runtime library is the module ``streamcore.native__mypyc``."""

PACKAGE_DIR = Path(__file__).resolve().parent
BUILD_DIR = PACKAGE_DIR.parent / ".native" / sys.implementation.cache_tag
STAMP = "stamp.json"


@dataclass
class Status:
    loaded: bool = False
    """Whether the compiled modules are the ones imported (``install`` found a fresh build)."""
    reason: str = "not checked"
    """Why they are or are not (for the start-up log line)."""


status = Status()


def source_path(module: str) -> Path:
    return PACKAGE_DIR.parent.joinpath(*module.split(".")).with_suffix(".py")


def digest(modules: Sequence[str]) -> dict[str, str]:
    """Each module's source hash: a build is used only for exactly these sources."""
    return {m: hashlib.sha256(source_path(m).read_bytes()).hexdigest() for m in modules}


def extension_path(build_dir: Path, module: str) -> Path | None:
    folder = build_dir.joinpath(*module.split(".")[:-1])
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = folder / (module.rsplit(".", 1)[-1] + suffix)
        if candidate.is_file():
            return candidate
    return None


class NativeFinder:
    """Finds the listed modules (and mypyc's runtime library) in the build directory."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        found = self.files.get(name)
        if found is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(name, str(found))
        return importlib.util.spec_from_file_location(name, found, loader=loader)


def fresh_build(build_dir: Path) -> tuple[dict[str, Path] | None, str]:
    """The build's extension files when it was built from the current sources, or why not."""
    try:
        stamp = json.loads((build_dir / STAMP).read_text())
    except (OSError, ValueError):
        return None, f"no compiled build in {build_dir} (pure Python)"
    if stamp.get("sources") != digest(NATIVE_MODULES):
        return None, "the compiled build is older than its sources (pure Python; rebuild it: "
        "scripts/bootstrap)"
    files = {}
    for module in (*NATIVE_MODULES, GROUP + "__mypyc"):
        found = extension_path(build_dir, module)
        if found is None:
            return None, f"the compiled build lacks {module} (pure Python)"
        files[module] = found
    return files, f"compiled hot path ({len(NATIVE_MODULES)} modules, mypyc)"


def install(build_dir: Path = BUILD_DIR) -> None:
    """Import the listed modules from a fresh build from now on (called on package import,
    before any of them is imported)."""
    if os.environ.get("STREAMCORE_NATIVE", "1").strip().lower() in {"0", "false", "no", "off"}:
        status.reason = "STREAMCORE_NATIVE=0 (pure Python)"
        return
    files, status.reason = fresh_build(build_dir)
    if files is None or status.loaded or any(m in sys.modules for m in NATIVE_MODULES):
        return
    sys.meta_path.insert(0, NativeFinder(files))
    status.loaded = True
