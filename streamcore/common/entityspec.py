"""``dp3.common.entityspec``."""

from streamcore.model.spec import (
    EntitySpec,
    ImmortalLifetime,
    SpecModel,
    TimeToLiveLifetime,
    WeakLifetime,
)

__all__ = ["EntitySpec", "ImmortalLifetime", "SpecModel", "TimeToLiveLifetime", "WeakLifetime"]
