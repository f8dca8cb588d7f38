"""A DP³ module written for DP³ (unchanged imports), used by the compatibility test.

It tags internal hosts: every ``ip.hostname`` ending in the configured suffix derives
``ip.label = "internal"``; new IPs get ``ip.label = "new"`` unless the task carries a
hostname. It builds tasks the DP³ way (dict data-points inside ``task_context``).
"""

import logging

from dp3.common.attrspec import AttrType
from dp3.common.base_module import BaseModule
from dp3.common.callback_registrar import CallbackRegistrar
from dp3.common.config import PlatformConfig
from dp3.common.datapoint import DataPointObservationsBase
from dp3.common.datatype import AnyEidT
from dp3.common.task import DataPointTask, task_context
from dp3.common.utils import get_func_name, parse_time_duration


class Dp3Tagger(BaseModule):
    def __init__(
        self, platform_config: PlatformConfig, module_config: dict, registrar: CallbackRegistrar
    ):
        super().__init__(platform_config, module_config, registrar)
        self.model_spec = platform_config.model_spec
        assert self.model_spec.attr("ip", "hostname").t == AttrType.OBSERVATIONS
        registrar.register_on_new_attr_hook(self.on_hostname, "ip", "hostname")
        registrar.register_on_entity_creation_hook(
            self.on_created, "ip", refresh=self.refresh, may_change=[["label"]]
        )
        registrar.register_periodic_eid_update_hook(
            self.recheck, "dp3_tagger_recheck", "ip", parse_time_duration("1d")
        )
        registrar.scheduler_register(self.reload, minute="*/10")
        self.log.info("registered %s", get_func_name(self.on_hostname))

    def load_config(self, config: PlatformConfig, module_config: dict) -> None:
        self.suffix = module_config.get("suffix", ".internal")
        self.reloads = 0

    def reload(self) -> None:
        self.reloads += 1

    def _label(self, eid: AnyEidT, label: str) -> DataPointTask:
        with task_context(self.model_spec):
            return DataPointTask(
                etype="ip",
                eid=eid,
                data_points=[
                    {"etype": "ip", "eid": eid, "attr": "label", "src": "dp3_tagger", "v": label}
                ],
            )

    def on_hostname(self, eid: AnyEidT, dp: DataPointObservationsBase) -> list[DataPointTask]:
        if dp.v.endswith(self.suffix):
            return [self._label(eid, "internal")]
        return []

    def on_created(self, eid: AnyEidT, task: DataPointTask) -> list[DataPointTask]:
        if any(dp.attr == "hostname" for dp in task.data_points):
            return []
        return [self._label(eid, "new")]

    def recheck(self, entity_type: str, eid: AnyEidT) -> list[DataPointTask]:
        logging.getLogger(__name__).debug("recheck %s/%s", entity_type, eid)
        return []
