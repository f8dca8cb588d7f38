"""``dp3.common.entityspec``."""

from streamcore.model.spec import EntitySpec

__all__ = ["EntitySpec"]
