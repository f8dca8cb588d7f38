"""DP³'s shell client (``dp3 sh``) from DP³'s source, run in-process against a URL.

``dp3_shell/dp3/bin/`` holds DP³'s ``dp3/bin/__init__.py``, ``dp3/bin/sh.py`` and
``dp3/bin/shcmd/`` copied byte for byte from CESNET/dp3 at commit b7553da8 (BSD-style
licence in ``LICENSE`` here, copyright CESNET): no published DP³ release has ``dp3 sh``
(dp-cubed 0.10.0 predates it). ``load_dp3_shell()`` registers that directory as the package
``dp3.bin`` beside the ``dp3.common`` that streamcore's DP³ compatibility provides, so the
copied files' ``from dp3.bin.shcmd ...`` and ``from dp3.common.config ...`` lines resolve
unchanged. The shell stays here, outside the streamcore package.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import sys
import types
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from streamcore.module.compat import install_dp3_compat

SHELL_PACKAGE = Path(__file__).parent / "dp3_shell" / "dp3" / "bin"


def load_dp3_shell() -> types.ModuleType:
    """DP³'s ``dp3.bin.sh``, imported from the copy (DP³ compatibility switched on first).

    Registered afresh on each call: another test may have switched compatibility off,
    which forgets the ``dp3`` package the copy hangs from.
    """
    assert install_dp3_compat(), "a real dp3 package is importable; the shell needs ours"
    unload_dp3_shell()
    spec = importlib.util.spec_from_file_location(
        "dp3.bin",
        SHELL_PACKAGE / "__init__.py",
        submodule_search_locations=[str(SHELL_PACKAGE)],
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules["dp3.bin"] = package
    spec.loader.exec_module(package)
    package_parent = importlib.import_module("dp3")
    package_parent.bin = package  # type: ignore[attr-defined]
    return importlib.import_module("dp3.bin.sh")


def unload_dp3_shell() -> None:
    """Forget the copy's modules (``dp3.bin`` is ours, not an alias the DP³ compatibility
    would forget when it is switched off)."""
    for name in [n for n in sys.modules if n == "dp3.bin" or n.startswith("dp3.bin.")]:
        del sys.modules[name]


@dataclass
class ShellResult:
    code: int
    out: str
    err: str


def run_dp3_shell(shell: types.ModuleType, argv: Sequence[str]) -> ShellResult:
    """``dp3 sh ARGV`` as DP³'s ``run()`` does it (parse, ``main``), with its output kept.

    ``run()`` itself only adds argcomplete's hook (inert outside completion) and
    ``sys.exit``; an argparse error's ``SystemExit`` becomes the result's code.
    """
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = shell.main(shell.build_parser().parse_args(list(argv)))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    return ShellResult(int(code), out.getvalue(), err.getvalue())
