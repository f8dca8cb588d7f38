"""``dp3.common.state``."""

from streamcore.module.flag import SharedFlag

__all__ = ["SharedFlag"]
