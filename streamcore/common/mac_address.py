"""``dp3.common.mac_address``."""

from streamcore.model.primitives import MACAddress

__all__ = ["MACAddress"]
