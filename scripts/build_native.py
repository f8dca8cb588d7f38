"""Compile streamcore's hot path with mypyc into .native/ (see streamcore/native.py).

    .venv/bin/python scripts/build_native.py [--force] [--clean]

Quick when the build is already fresh (same sources). The modules are compiled from the
same typed source as always; the compiled files go to .native/<python>/ (git-ignored) and
streamcore imports them from there only while they match their sources. ``--clean``
removes the build (streamcore then runs as pure Python).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamcore import native  # noqa: E402  (the module list and the stamp's format)


def mypy_config() -> str:
    """pyproject's [tool.mypy] as an ini file, without its ``packages`` (mypyc compiles only
    the listed modules); the ini because setuptools must not read the project's pyproject."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    lines = ["[mypy]", f"python_version = {tool['python_version']}", f"strict = {tool['strict']}"]
    for override in tool.get("overrides", []):
        lines.append(f"[mypy-{','.join(override['module'])}]")
        lines += [f"{key} = {value}" for key, value in override.items() if key != "module"]
    return "\n".join(lines) + "\n"


def build(out: Path) -> None:
    from mypyc.build import mypycify
    from setuptools import setup

    with tempfile.TemporaryDirectory(prefix="streamcore-native-") as scratch:
        work = Path(scratch)
        (work / "mypy.ini").write_text(mypy_config())
        sources = [str(native.source_path(m)) for m in native.NATIVE_MODULES]
        staged = work / "lib"
        here = os.getcwd()
        os.chdir(work)  # setuptools reads ./pyproject.toml: not the project's own
        try:
            extensions = mypycify(
                ["--config-file", str(work / "mypy.ini"), *sources],
                group_name=native.GROUP,
                target_dir=str(work / "c"),
            )
            setup(
                name="streamcore-native",
                ext_modules=extensions,
                script_args=[
                    "--quiet",
                    "build_ext",
                    "--build-lib",
                    str(staged),
                    "--build-temp",
                    str(work / "temp"),
                ],
            )
        finally:
            os.chdir(here)
        stamp = {"sources": native.digest(native.NATIVE_MODULES)}
        (staged / native.STAMP).write_text(json.dumps(stamp, indent=1) + "\n")
        shutil.rmtree(out, ignore_errors=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staged), out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when fresh")
    parser.add_argument("--clean", action="store_true", help="remove the build")
    args = parser.parse_args()
    out = native.BUILD_DIR
    if args.clean:
        shutil.rmtree(out, ignore_errors=True)
        print(f"removed {out}")
        return 0
    files, _ = native.fresh_build(out)
    if files is not None and not args.force:
        return 0
    build(out)
    files, why = native.fresh_build(out)
    if files is None:
        print(f"build_native: {why}", file=sys.stderr)
        return 1
    print(f"build_native: {why} in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
