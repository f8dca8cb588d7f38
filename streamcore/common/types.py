"""``dp3.common.types``."""

from streamcore.model.spec import Duration

ParsedTimedelta = Duration
"""A ``timedelta`` field that also accepts DP³'s ``"30m"``/``"1d"`` strings."""

__all__ = ["ParsedTimedelta"]
