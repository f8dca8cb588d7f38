"""``dp3.common.callback_registrar``."""

from streamcore.module.registrar import CallbackRegistrar

__all__ = ["CallbackRegistrar"]
