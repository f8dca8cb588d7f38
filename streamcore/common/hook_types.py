"""``dp3.common.hook_types``."""

from streamcore.module.hooks import ON_NEW_HOOK_BY_ATTR_TYPE

ATTR_TYPE_TO_ON_NEW_HOOK = ON_NEW_HOOK_BY_ATTR_TYPE
"""Attribute type -> the deprecated ``register_attr_hook`` name (``"on_new_plain"`` ...)."""

__all__ = ["ATTR_TYPE_TO_ON_NEW_HOOK"]
