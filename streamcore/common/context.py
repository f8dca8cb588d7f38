"""``dp3.common.context``: the context DP³ sets while it builds attribute specifications.

streamcore builds specifications without it (``build_model_spec`` sees every file at
once); the context manager is kept for tool scripts that set it around their own code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_spec_context: ContextVar[dict[str, Any] | None] = ContextVar("dp3_entity_context", default=None)


@contextmanager
def entity_context(self_spec: Any, entities: dict[str, Any]) -> Iterator[None]:
    """Make ``self_spec`` and ``entities`` available to ``get_entity_context`` in the block."""
    token = _spec_context.set({"self": self_spec, "entities": entities})
    try:
        yield
    finally:
        _spec_context.reset(token)


def get_entity_context() -> dict[str, Any]:
    """The context set by ``entity_context``; ``ValueError`` outside it (as DP³)."""
    context = _spec_context.get()
    if context is None:
        raise ValueError("Entity spec context is not set")
    return context


__all__ = ["entity_context", "get_entity_context"]
