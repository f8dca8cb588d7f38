"""DP³ compatibility: unchanged DP³ modules (``from dp3.common.X import Y``) load and run.

``install_dp3_compat()`` puts a finder on ``sys.meta_path`` that answers imports of
``dp3``, ``dp3.common[.X]`` and ``dp3.testing[.X]`` with streamcore's mirrors in
``streamcore.common`` and ``streamcore.testing.dp3`` (``dp3.common.X`` *is*
``streamcore.common.X``, so classes are identical, not copies). It is installed only
when asked for, before modules are imported (``load_modules(..., dp3_compat=True)``),
and only when no real ``dp3`` package is importable: with DP³ itself installed, its
modules would be DP³'s, not ours, so the finder stays out and ``install_dp3_compat``
returns False. Other ``dp3.*`` packages (the worker, the database, the API) have no
streamcore counterpart and still fail to import.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import logging
import sys
import types
from collections.abc import Sequence
from importlib.machinery import ModuleSpec

log = logging.getLogger(__name__)

_ALIAS = "dp3"
_MIRRORS = {"dp3.common": "streamcore.common", "dp3.testing": "streamcore.testing.dp3"}
_TARGETS = tuple(_MIRRORS.values())


class _AliasLoader(importlib.abc.Loader):
    """Loads ``dp3.common[.X]`` as the already importable ``streamcore.common[.X]``, and
    ``dp3`` as an empty package holding it."""

    def __init__(self, target: str | None) -> None:
        self._target = target

    def create_module(self, spec: ModuleSpec) -> types.ModuleType:
        if self._target is None:
            package = types.ModuleType(spec.name, "DP³ compatibility package (streamcore).")
            package.__path__ = []
            return package
        return importlib.import_module(self._target)

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: the target module was executed when it was imported."""


class Dp3CompatFinder(importlib.abc.MetaPathFinder):
    """Resolves ``dp3`` names to ``streamcore.common``; every other name is not its business."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: types.ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname == _ALIAS:
            return ModuleSpec(fullname, _AliasLoader(None), is_package=True)
        for root, mirror in _MIRRORS.items():
            if fullname == root or fullname.startswith(root + "."):
                mirrored = mirror + fullname[len(root) :]
                if importlib.util.find_spec(mirrored) is None:
                    return None
                return ModuleSpec(fullname, _AliasLoader(mirrored), is_package=fullname == root)
        return None


def install_dp3_compat() -> bool:
    """Let ``dp3.common.*`` imports resolve to streamcore; False if a real ``dp3`` exists."""
    if is_installed():
        return True
    if _ALIAS not in sys.modules and importlib.util.find_spec(_ALIAS) is not None:
        log.warning("A real 'dp3' package is importable; DP³ compatibility stays off")
        return False
    if isinstance(sys.modules.get(_ALIAS), types.ModuleType) and not _is_alias(_ALIAS):
        log.warning("'dp3' is already imported; DP³ compatibility stays off")
        return False
    # First in line: ``dp3.common``'s __path__ is streamcore.common's, so the path finder
    # would otherwise load ``dp3.common.X`` a second time as a separate module.
    sys.meta_path.insert(0, Dp3CompatFinder())
    log.info("DP³ compatibility on: dp3.common.* and dp3.testing resolve to streamcore")
    return True


def uninstall_dp3_compat() -> None:
    """Remove the finder, forget the ``dp3`` modules it provided and the application model
    DP³ tasks validate against (used by tests)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, Dp3CompatFinder)]
    task_module = sys.modules.get("streamcore.common.task")
    if task_module is not None:
        task_module.use_model_spec(None)
    for name in [n for n in sys.modules if n == _ALIAS or n.startswith(_ALIAS + ".")]:
        if _is_alias(name):
            del sys.modules[name]


def is_installed() -> bool:
    """Whether the compatibility finder is on ``sys.meta_path``."""
    return any(isinstance(f, Dp3CompatFinder) for f in sys.meta_path)


def _is_alias(name: str) -> bool:
    spec = getattr(sys.modules.get(name), "__spec__", None)
    loader = getattr(spec, "loader", None)
    module = sys.modules.get(name)
    return isinstance(loader, _AliasLoader) or (
        module is not None and getattr(module, "__name__", "").startswith(_TARGETS)
    )
