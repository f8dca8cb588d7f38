"""Messages on the control and dead-letter topics (pure records; Avro in ``codec``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class ControlAction(Enum):
    """DP³'s control actions. ``UNKNOWN`` is what an older reader sees for a newer action."""

    UNKNOWN = "unknown"
    REFRESH_MODULE_CONFIG = "refresh_module_config"
    MAKE_SNAPSHOTS = "make_snapshots"
    REFRESH_ON_ENTITY_CREATION = "refresh_on_entity_creation"
    PING = "ping"
    """streamcore's own: every live replica acknowledges, changing nothing (its detail
    says which config each module runs: ``streamcore control status``)."""
    RESET_MODULE_CONFIG = "reset_module_config"
    """streamcore's own: a module returns to its file's configuration on every replica."""


@dataclass(slots=True)
class ControlMessage:
    """An action for every replica; ``payload`` carries e.g. ``module`` or ``etype``."""

    action: ControlAction
    payload: dict[str, str] = field(default_factory=dict)
    issued_at: datetime | None = None


@dataclass(slots=True)
class DeadLetter:
    """A message that could not be processed, with why and its original record untouched."""

    reason: str
    message: str
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: datetime
