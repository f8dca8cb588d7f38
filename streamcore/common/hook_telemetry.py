"""``dp3.common.hook_telemetry``: DP³ times hooks into Redis/MongoDB telemetry; streamcore
times every hook itself (Prometheus ``streamcore_hook_*`` metrics)."""

from streamcore.common._absent import absent

_WHY = (
    "DP³'s hook telemetry; streamcore exports hook timings and failures as Prometheus "
    "metrics on every process"
)

__getattr__ = absent(
    __name__,
    dict.fromkeys(("P", "R", "TrackedHook", "HookTelemetry"), _WHY),
)
