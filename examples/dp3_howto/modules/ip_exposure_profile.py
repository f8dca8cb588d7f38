"""The module DP³'s "Test a secondary module" how-to tests (docs/howto/test-module.md).

Written against DP³'s module API only (``dp3.common``), so it runs on DP³ and, with DP³
compatibility on, on streamcore; ``tests/test_ip_exposure_profile.py`` is the how-to's test
code, unchanged.
"""

from dp3.common.base_module import BaseModule
from dp3.common.callback_registrar import CallbackRegistrar
from dp3.common.config import PlatformConfig
from dp3.common.datapoint import DataPointObservationsBase
from dp3.common.task import DataPointTask

RISK_POINTS = {"low": 1, "medium": 5, "high": 10}


class IPExposureProfile(BaseModule):
    """Open ports -> services (with a guessed type) linked from their IP; risk scores."""

    def __init__(
        self, platform_config: PlatformConfig, module_config: dict, registrar: CallbackRegistrar
    ):
        super().__init__(platform_config, module_config, registrar)
        registrar.register_on_new_attr_hook(self.on_open_port, "ip", "open_ports")
        registrar.register_on_new_attr_hook(self.on_guessed_type, "service", "guessed_type")
        registrar.register_periodic_update_hook(
            self.update_service_intel, "service_intel", "service", "1d"
        )
        registrar.register_correlation_hook(
            self.score_exposure,
            "service",
            depends_on=[["external_risk"]],
            may_change=[["exposure_score"]],
        )
        registrar.scheduler_register(self.reload_ip_groups, minute="*/10")

    def load_config(self, config: PlatformConfig, module_config: dict) -> None:
        self.well_known = {int(k): v for k, v in module_config.get("well_known_ports", {}).items()}
        self.ip_groups: dict[str, str] = {}

    def on_open_port(self, eid: str, dp: DataPointObservationsBase) -> list[DataPointTask]:
        service = f"{eid}:{dp.v}"
        return [
            DataPointTask(
                etype="service",
                eid=service,
                data_points=[
                    {
                        "etype": "service",
                        "eid": service,
                        "attr": "guessed_type",
                        "src": "secondary/ip_exposure_profile",
                        "v": self.well_known.get(dp.v, "unknown"),
                    }
                ],
            ),
            DataPointTask(
                etype="ip",
                eid=eid,
                data_points=[
                    {
                        "etype": "ip",
                        "eid": eid,
                        "attr": "services",
                        "src": "secondary/ip_exposure_profile",
                        "v": [{"eid": service}],
                    }
                ],
            ),
        ]

    def on_guessed_type(self, eid: str, dp) -> list[DataPointTask]:
        return []

    def update_service_intel(self, etype: str, eid: str, record: dict) -> list[DataPointTask]:
        intel = self._fetch_service_intel(eid, record["guessed_type"]["v"])
        return [
            DataPointTask(
                etype=etype,
                eid=eid,
                data_points=[
                    {"etype": etype, "eid": eid, "attr": "external_risk", "v": intel["risk"]}
                ],
            )
        ]

    def _fetch_service_intel(self, eid: str, service_type: str) -> dict:
        """An external lookup in a real deployment; tests patch it."""
        raise RuntimeError("no threat-intelligence service configured")

    def score_exposure(self, etype: str, record: dict) -> None:
        record["exposure_score"] = RISK_POINTS.get(record.get("external_risk"), 0)

    def reload_ip_groups(self) -> None:
        self.ip_groups = {}
