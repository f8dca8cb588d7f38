"""Every public name of DP³'s ``dp3.common.*`` and ``dp3.testing`` (CESNET/dp3 b7553da8),
and DP³'s results for its pure functions.

A name is either provided or, when it only makes sense inside DP³'s own MongoDB/RabbitMQ
processes, refused on import with ``Dp3NameNotProvided`` saying what to use instead (the
README's porting guide lists them). The expected values were computed by DP³ itself
(``pip install`` of CESNET/dp3 in a separate environment, same inputs).
"""

import importlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from streamcore.common._absent import Dp3NameNotProvided
from streamcore.module.compat import install_dp3_compat, uninstall_dp3_compat

NOW = datetime.now(UTC).replace(microsecond=0)
DP3_CONFIG = Path(__file__).parents[1] / "dp3_upstream" / "test_config"

DP3_NAMES = {
    "dp3.common.attrspec": [
        "AttrSpec",
        "AttrSpecClassic",
        "AttrSpecGeneric",
        "AttrSpecObservations",
        "AttrSpecPlain",
        "AttrSpecReadOnly",
        "AttrSpecTimeseries",
        "AttrSpecType",
        "AttrType",
        "ID_REGEX",
        "ObservationsHistoryParams",
        "TimeseriesSeries",
        "TimeseriesTSParams",
        "timeseries_types",
    ],
    "dp3.common.base_module": ["BaseModule"],
    "dp3.common.callback_registrar": [
        "CallbackRegistrar",
        "on_attr_change_in_snapshots",
        "on_entity_creation_in_snapshots",
        "reload_module_config",
        "unset_flag",
        "write_datapoints_into_record",
    ],
    "dp3.common.config": [
        "CRON_EXPR_PATTERN",
        "CronExpression",
        "CronStr",
        "EntitySpecDict",
        "HierarchicalDict",
        "MissingConfigError",
        "ModelSpec",
        "NoDefault",
        "PlatformConfig",
        "TimeInt",
        "entity_type_context",
        "get_entity_type_context",
        "read_config",
        "read_config_dir",
    ],
    "dp3.common.context": ["entity_context", "get_entity_context"],
    "dp3.common.control": [
        "Control",
        "ControlAction",
        "ControlConfig",
        "ControlMessage",
        "refresh_on_entity_creation",
    ],
    "dp3.common.datapoint": [
        "DataPointBase",
        "DataPointObservationsBase",
        "DataPointPlainBase",
        "DataPointTimeseriesBase",
        "DataPointType",
        "dp_ts_root_validator_irregular",
        "dp_ts_root_validator_irregular_intervals",
        "dp_ts_root_validator_regular_wrapper",
        "dp_ts_v_validator",
        "ignore_value",
        "is_list_ordered",
        "to_json_friendly",
    ],
    "dp3.common.datatype": [
        "AnyEidT",
        "DataType",
        "EidDataType",
        "Link",
        "ReadOnly",
        "eid_data_types",
        "is_primitive_element_type",
        "primitive_data_types",
        "re_array",
        "re_category",
        "re_dict",
        "re_link",
        "re_set",
    ],
    "dp3.common.entityspec": [
        "EntitySpec",
        "ImmortalLifetime",
        "SpecModel",
        "TimeToLiveLifetime",
        "WeakLifetime",
    ],
    "dp3.common.hook_telemetry": ["HookTelemetry", "P", "R", "TrackedHook"],
    "dp3.common.hook_types": ["ATTR_TYPE_TO_ON_NEW_HOOK"],
    "dp3.common.mac_address": ["MACAddress"],
    "dp3.common.scheduler": ["Scheduler"],
    "dp3.common.state": ["SharedFlag"],
    "dp3.common.task": [
        "DataPointTask",
        "EntityTuple",
        "EntityTuplesAdapter",
        "HASH",
        "Snapshot",
        "SnapshotMessageType",
        "Task",
        "ValidatedDataPoint",
        "get_discriminator_value",
        "instanciate_dps",
        "parse_data_point_task",
        "parse_eid_tuples_from_cache",
        "parse_eids_from_cache",
        "task_context",
        "validate_data_points",
        "validate_entities",
    ],
    "dp3.common.types": [
        "AwareDatetime",
        "DP3Encoder",
        "EventGroupType",
        "ParsedTimedelta",
        "T2Datetime",
        "ensure_timezone_aware",
        "parse_timedelta_or_passthrough",
        "t2_after_t1",
        "t2_implicity_t1",
    ],
    "dp3.common.utils": [
        "DEPENDENCY_LOGGERS",
        "batched",
        "bytes2int",
        "conv_from_json",
        "conv_to_json",
        "entity_expired",
        "get_func_name",
        "get_stable_func_name",
        "int2bytes",
        "int2ipstr",
        "ipstr2int",
        "ipv4_re",
        "parse_rfc_time",
        "parse_time_duration",
        "suppress_dependency_loggers",
        "time_duration_pattern",
        "timestamp_re",
    ],
    "dp3.testing.assertions": ["ModuleAssertions", "dump_value"],
    "dp3.testing.case": ["DP3ModuleTestCase", "ModuleT"],
    "dp3.testing.config": [
        "CONFIG_DIR_ENV",
        "build_model_spec",
        "build_platform_config",
        "get_module_config",
        "load_config",
        "resolve_config_dir",
    ],
    "dp3.testing.registrar": ["HookRegistration", "TestCallbackRegistrar"],
    "dp3.testing": [
        "CONFIG_DIR_ENV",
        "DP3ModuleTestCase",
        "HookRegistration",
        "TestCallbackRegistrar",
        "resolve_config_dir",
    ],
}

ABSENT = {
    "dp3.common.callback_registrar": {"reload_module_config"},
    "dp3.common.control": {"Control", "ControlMessage", "refresh_on_entity_creation"},
    "dp3.common.datapoint": {
        "dp_ts_v_validator",
        "dp_ts_root_validator_regular_wrapper",
        "dp_ts_root_validator_irregular",
        "dp_ts_root_validator_irregular_intervals",
    },
    "dp3.common.hook_telemetry": {"P", "R", "TrackedHook", "HookTelemetry"},
    "dp3.common.scheduler": {"Scheduler"},
    "dp3.common.types": {"EventGroupType"},
    "dp3.common.task": {
        "instanciate_dps",
        "validate_data_points",
        "ValidatedDataPoint",
        "SnapshotMessageType",
        "get_discriminator_value",
        "EntityTuple",
        "Snapshot",
        "EntityTuplesAdapter",
        "validate_entities",
        "parse_eids_from_cache",
        "parse_eid_tuples_from_cache",
    },
}


@pytest.fixture(autouse=True)
def compat() -> Iterator[None]:
    assert install_dp3_compat()
    yield
    uninstall_dp3_compat()


@pytest.mark.parametrize(("module", "names"), sorted(DP3_NAMES.items()))
def test_every_dp3_name_is_provided_or_refused_with_a_reason(module: str, names: list[str]) -> None:
    imported = importlib.import_module(module)
    absent = ABSENT.get(module, set())
    for name in names:
        if name in absent:
            with pytest.raises(Dp3NameNotProvided, match="no streamcore counterpart: .+"):
                exec(f"from {module} import {name}", {})
        else:
            assert getattr(imported, name) is not None, f"{module}.{name}"


def test_counts_match_the_issue_inventory() -> None:
    total = sum(len(names) for names in DP3_NAMES.values())
    refused = sum(len(names) for names in ABSENT.values())
    assert (total, refused) == (139, 25)


def test_parse_rfc_time_is_naive_utc_as_dp3() -> None:
    from dp3.common.utils import parse_rfc_time

    results = [
        str(parse_rfc_time(s))
        for s in [
            "2024-01-01T10:00:00+02:00",
            "2024-01-01 10:00:00.123456789Z",
            "2024-01-01t10:00:00-01:30",
        ]
    ]
    assert results == ["2024-01-01 08:00:00", "2024-01-01 10:00:00.123456", "2024-01-01 10:30:00"]
    assert parse_rfc_time("2024-01-01T00:00:00Z").tzinfo is None
    with pytest.raises(ValueError, match="Wrong timestamp format"):
        parse_rfc_time("yesterday")


def test_utils_give_dp3s_results() -> None:
    from dp3.common import utils as u
    from dp3.common.types import DP3Encoder

    assert [u.ipstr2int("192.0.2.1"), u.int2ipstr(3221225985)] == [3221225985, "192.0.2.1"]
    got = [u.int2bytes(n).hex() for n in [0, 1, 127, 128, -1, -129, 2**40]]
    assert got == ["00", "01", "7f", "0080", "ff", "ff7f", "010000000000"]
    assert u.bytes2int(bytes.fromhex("ff7f")) == -129
    durations = [str(u.parse_time_duration(x)) for x in ["0", "30s", "10m", "12h", "7d", 90]]
    assert durations == ["0:00:00", "0:00:30", "0:10:00", "12:00:00", "7 days, 0:00:00", "0:01:30"]
    values = {
        "a": datetime(2024, 1, 2, 3, 4, 5, 6),  # noqa: DTZ001 (DP³: naive UTC)
        "b": timedelta(days=1, seconds=2, microseconds=3),
    }
    text = json.dumps(values, default=u.conv_to_json)
    assert text == (
        '{"a": {"$datetime": "2024-01-02T03:04:05.000006"}, "b": {"$timedelta": "1,2,3"}}'
    )
    assert json.loads(text, object_hook=u.conv_from_json) == values
    encoded = json.dumps({"t": datetime(2024, 1, 2, 3, 4, 5, 678901)}, cls=DP3Encoder)  # noqa: DTZ001
    assert encoded == '{"t": "2024-01-02T03:04:05.678"}'
    assert list(u.batched(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]


def _f(a: int, b: int = 1) -> None: ...


class _K:
    def m(self) -> None: ...


def test_get_func_name_in_dp3s_format() -> None:
    from dp3.common.utils import get_func_name

    names = [get_func_name(_f), get_func_name(_K().m), get_func_name(partial(_f, 1, b=2))]
    assert names == [f"{__name__}._f", f"{__name__}._K.m", f"partial({__name__}._f, 1, b=2)"]


def test_hierarchical_dict_missing_key_raises() -> None:
    from dp3.common.config import HierarchicalDict, MissingConfigError

    config = HierarchicalDict({"a": {"b": 1}})
    with pytest.raises(MissingConfigError, match="Mandatory configuration element is missing"):
        config.get("a.c")
    assert config.get("a.c", None) is None
    assert config.get("a.b") == 1


def test_task_message_routing_and_dump_as_dp3() -> None:
    from dp3.common.config import ModelSpec, read_config_dir
    from dp3.common.task import DataPointTask, task_context

    model = ModelSpec(read_config_dir(str(DP3_CONFIG), recursive=True).get("db_entities"))
    with task_context(model):
        task = DataPointTask(
            etype="test_entity_type",
            eid="e1",
            data_points=[
                {
                    "etype": "test_entity_type",
                    "eid": "e1",
                    "attr": "test_attr_string",
                    "src": "s",
                    "v": "x",
                },  # noqa: E501
                {"etype": "test_entity_type", "eid": "e1", "attr": "test_attr_int", "v": 5},
            ],
        )
    assert task.as_message() == (
        '{"etype":"test_entity_type","eid":"e1","data_points":[{"etype":"test_entity_type",'
        '"eid":"e1","attr":"test_attr_string","src":"s","v":"x"},{"etype":"test_entity_type",'
        '"eid":"e1","attr":"test_attr_int","v":5}]}'
    )
    assert [task.routing_key(), task.hashed_routing_key()] == ["test_entity_type:e1", 27044]
    assert task.data_points[0].model_dump() == {
        "etype": "test_entity_type",
        "eid": "e1",
        "attr": "test_attr_string",
        "src": "s",
        "v": "x",
        "c": None,
        "t1": None,
        "t2": None,
    }


def test_hash_is_dp3s() -> None:
    from dp3.common.task import HASH

    assert [HASH(k) for k in ["ip:192.0.2.1", "device:abc", ""]] == [29856, 52816, 17022]


def test_per_kind_datapoints_and_isinstance() -> None:
    from dp3.common.config import ModelSpec, read_config_dir
    from dp3.common.datapoint import (
        DataPointBase,
        DataPointObservationsBase,
        DataPointPlainBase,
        DataPointTimeseriesBase,
    )
    from dp3.common.task import DataPointTask, task_context

    model = ModelSpec(read_config_dir(str(DP3_CONFIG), recursive=True).get("db_entities"))
    with task_context(model):
        task = DataPointTask(
            etype="test_entity_type",
            eid="e1",
            data_points=[
                {"attr": "test_attr_string", "v": "x"},
                {"attr": "test_attr_history", "v": 1, "t1": NOW},
            ],
        )
    plain, observation = task.data_points
    assert type(plain) is DataPointPlainBase and isinstance(plain, DataPointBase)
    assert type(observation) is DataPointObservationsBase
    assert observation.t2 == observation.t1 and observation.c == 1.0
    assert not isinstance(plain, DataPointTimeseriesBase)
    with pytest.raises(ValueError, match="confidence"):
        DataPointObservationsBase(etype="e", attr="a", v=1, t1="2024-01-01", c=2)
    with pytest.raises(ValueError, match="before 't1'"):
        DataPointObservationsBase(etype="e", attr="a", v=1, t1="2024-01-02", t2="2024-01-01")


def test_model_spec_takes_dp3s_config_and_raises_value_error() -> None:
    from dp3.common.config import ModelSpec

    with pytest.raises(ValueError, match="entity"):
        ModelSpec({"broken": {"attribs": {}}})


def test_attr_spec_factory() -> None:
    from dp3.common.attrspec import AttrSpec, AttrSpecObservations

    spec = AttrSpec("seen", {"name": "Seen", "type": "observations", "data_type": "int"})
    assert isinstance(spec, AttrSpecObservations) and spec.id == "seen"
    with pytest.raises(ValueError, match="Missing mandatory attribute `type`"):
        AttrSpec("x", {"name": "x"})


def test_entity_spec_validates_eids_as_dp3() -> None:
    from ipaddress import IPv4Address

    from dp3.common.config import ModelSpec, read_config_dir

    model = ModelSpec(read_config_dir(str(DP3_CONFIG), recursive=True).get("db_entities"))
    ip_type = next(e for e in model.entities.values() if e.id_data_type.root == "ipv4")
    assert ip_type.validate_eid("192.0.2.1") == IPv4Address("192.0.2.1")
    assert ip_type.eid_type("192.0.2.1") == IPv4Address("192.0.2.1")
    with pytest.raises(ValueError):
        ip_type.validate_eid("not-an-ip")
