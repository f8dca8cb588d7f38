"""``dp3.common.base_module``."""

from streamcore.module.base import BaseModule

__all__ = ["BaseModule"]
