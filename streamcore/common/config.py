"""``dp3.common.config``: the platform configuration and the entity model."""

from streamcore.config import CronExpression, HierarchicalDict, PlatformConfig
from streamcore.model.modelspec import ModelSpec

__all__ = ["CronExpression", "HierarchicalDict", "ModelSpec", "PlatformConfig"]
