"""DP³ names tied to MongoDB or RabbitMQ internals, which streamcore does not provide.

A mirrored module lists them in ``ABSENT``; importing one raises ``Dp3NameNotProvided``
(an ``ImportError``) saying what streamcore has instead, rather than a bare "cannot import".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


class Dp3NameNotProvided(ImportError):
    """A DP³ name that only makes sense inside DP³'s own platform processes."""


def absent(module: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` raising ``Dp3NameNotProvided`` for ``names`` (name -> why)."""

    def __getattr__(name: str) -> Any:
        if name in names:
            raise Dp3NameNotProvided(
                f"{module}.{name} is part of DP³'s own platform and has no streamcore "
                f"counterpart: {names[name]}",
                name=name,
            )
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
