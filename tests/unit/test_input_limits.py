"""Poison input is refused up front, with a reason naming the problem (``TaskValidator``).

Each case here once got past validation and then killed or stalled a worker: a NaN stored
as JSON null, a far-future time overflowing the merge or the Cassandra TTL, a year-1 time
silently never stored, a huge value or set stored (or checked) without bound.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from streamcore.codec import TaskDecoder, TaskEncoder
from streamcore.config.samples import dp, every_kind_tasks, example_model
from streamcore.errors import (
    ExpiredDataPointError,
    InvalidDataPointError,
    LimitExceededError,
)
from streamcore.limits import Limits, TaskValidator
from streamcore.model import DataPointTask
from streamcore.settings import LimitsSettings, Settings

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
IP = "192.0.2.1"
LAST_MINUTE = datetime(8999, 12, 31, 23, 58, tzinfo=UTC)  # + one 5-minute step: past 9000
Y9500 = datetime(9500, 1, 1, tzinfo=UTC)


def validator(**limits: int) -> TaskValidator:
    return TaskValidator(example_model(), Limits(**limits), clock=lambda: NOW)


def task(*points: Any, **extra: Any) -> DataPointTask:
    return DataPointTask("ip", IP, list(points), **extra)


def refused(t: DataPointTask, v: TaskValidator | None = None) -> InvalidDataPointError:
    with pytest.raises(InvalidDataPointError) as caught:
        (v or validator()).validate(t)
    return caught.value


@pytest.mark.parametrize(
    ("point", "problem"),
    [
        (dp("rep_score", float("nan"), t1=NOW), "not a finite number"),
        (dp("rep_score", float("inf"), t1=NOW), "not a finite number"),
        (dp("rep_score", float("-inf"), t1=NOW), "not a finite number"),
        (dp("rep_score", 0.5, t1=NOW, c=float("nan")), "confidence"),
        (dp("raw_whois", {"x": float("nan")}), "NaN or infinity"),
        (dp("extra", [1, float("inf")]), "NaN or infinity"),
        (dp("alerts", {"time": [NOW], "severity": [float("nan")]}, t1=NOW), "finite"),
        (dp("last_conn", {"port": 1, "proto": "tcp", "note": "\ud800"}, t1=NOW), "surrogate"),
        (dp("raw_whois", {"n": 2**64}), "64-bit"),
        (dp("raw_whois", "[" * 100 + "]" * 100), "nests"),
        (dp("raw_whois", "[" * 100_000), "nests"),
        (dp("open_ports", [22], t1=datetime(9999, 12, 31, tzinfo=UTC)), "t1: 9999-12-31"),
        (dp("open_ports", [22], t1=datetime(9999, 6, 1, tzinfo=UTC)), "outside the accepted"),
        (dp("open_ports", [22], t1=datetime(1, 1, 1, tzinfo=UTC)), "t1: 0001-01-01"),
        (dp("open_ports", [22], t1=NOW, t2=datetime(9000, 1, 1, tzinfo=UTC)), "t2: 9000"),
        (dp("rep_score", 1.0, t1=1e300), "t1: expected a time"),
        (dp("rep_score", 1.0, t1=float("nan")), "NaN or infinity"),
        (dp("traffic", {"packets": [1], "bytes": [1]}, t1=LAST_MINUTE), "t2: 9000"),
        (dp("alerts", {"time": [NOW, Y9500], "severity": [1, 2]}, t1=NOW), "t2: 9500"),
    ],
)
def test_values_that_cant_be_stored_are_refused_naming_attribute_and_problem(
    point: Any, problem: str
) -> None:
    error = refused(task(point))
    assert f"attribute {point.attr!r}" in str(error)
    assert problem in str(error)


def test_ttl_tokens_outside_the_window_are_refused() -> None:
    error = refused(task(ttl_tokens={"seen": datetime(9999, 12, 31, tzinfo=UTC)}))
    assert "token 'seen': 9999-12-31" in str(error)


def test_a_string_id_longer_than_cassandra_keys_can_be_is_refused() -> None:
    error = refused(DataPointTask("domain", "a" * 70_000, [dp("mail_servers", [])]))
    assert "longer than 65535 bytes" in str(error)


def test_an_observation_already_past_its_max_age_is_refused_as_expired() -> None:
    old = NOW - timedelta(days=31)  # open_ports keeps 30 days
    error = refused(task(dp("open_ports", [22], t1=old)))
    assert isinstance(error, ExpiredDataPointError) and error.reason == "expired"
    assert "max_age 30 days" in str(error) and "already past" in str(error)
    # Just inside max_age: accepted.
    validator().validate(task(dp("open_ports", [22], t1=NOW - timedelta(days=29))))
    # Year 1000, an attribute without max_age (plain): accepted, and kept.
    validator().validate(task(dp("first_seen", datetime(1000, 1, 1, tzinfo=UTC))))


@pytest.mark.parametrize(
    ("t", "limit", "what"),
    [
        (task(dp("note", "x" * 100_000)), "max_value_bytes=65536", "value of 100002 bytes"),
        (task(dp("note", "\x00" * 20_000)), "max_value_bytes=65536", "value of 120002 bytes"),
        (task(dp("note", "ok", src="s" * 70_000)), "max_value_bytes", "src of 70002 bytes"),
        (task(dp("extra", list(range(200_000)))), "max_elements=10000", "200000 elements"),
        (task(dp("services", [str(i) for i in range(10_001)], t1=NOW)), "max_elements", ""),
        (
            task(dp("traffic", {"packets": [1] * 20_000, "bytes": [1] * 20_000}, t1=NOW)),
            "max_elements",
            "20000 elements",
        ),
        (task(*[dp("asn", i) for i in range(10_001)]), "max_data_points=10000", "10001"),
        (task(ttl_tokens={str(i): NOW for i in range(10_001)}), "max_elements", "ttl_tokens"),
    ],
)
def test_limits_are_enforced_naming_the_limit_and_its_setting(
    t: DataPointTask, limit: str, what: str
) -> None:
    error = refused(t)
    assert isinstance(error, LimitExceededError) and error.reason == "limit_exceeded"
    assert limit in str(error) and what in str(error)
    assert "STREAMCORE_LIMITS__" in str(error)


def test_limits_come_from_the_settings() -> None:
    limits = Settings(limits=LimitsSettings(max_elements=3)).limits.limits()
    assert limits == Limits(max_elements=3)
    refused(task(dp("extra", [1, 2, 3, 4])), TaskValidator(example_model(), limits))
    TaskValidator(example_model(), limits).validate(task(dp("extra", [1, 2, 3])))


def test_the_message_limit_stays_below_kafkas() -> None:
    with pytest.raises(ValueError, match="less than or equal to 1000000"):
        LimitsSettings(max_message_bytes=2_000_000)


def test_the_decoder_refuses_an_oversized_message_before_decoding_it() -> None:
    model = example_model()
    data = TaskEncoder(model).encode(task(dp("note", "y" * 60_000)))
    small = TaskValidator(model, Limits(max_message_bytes=50_000))
    with pytest.raises(LimitExceededError, match="message of 600[0-9]{2} bytes"):
        TaskDecoder(model, check=small).decode(b"\x00" + data[1:])  # not even valid Avro
    assert TaskDecoder(model, check=validator()).decode(data).data_points[0].v == "y" * 60_000


def test_the_decoder_keeps_the_kind_of_refusal_and_the_raw_record() -> None:
    from streamcore.errors import RawRecord

    model = example_model()
    data = TaskEncoder(model).encode(task(dp("open_ports", [1], t1=NOW - timedelta(days=90))))
    raw = RawRecord("in", 0, 5, b"k", data)
    with pytest.raises(ExpiredDataPointError) as caught:
        TaskDecoder(model, check=validator()).decode(data, raw)
    assert caught.value.record == raw


def test_the_example_tasks_pass_every_check() -> None:
    v = TaskValidator(example_model(), clock=lambda: datetime(2024, 5, 2, tzinfo=UTC))
    for t in every_kind_tasks():
        v.validate(t)


def test_a_set_of_the_largest_allowed_size_is_checked_quickly() -> None:
    # 10k distinct items: linear duplicate check (the old pairwise one took ~1 s here).
    items = [str(i) for i in range(10_000)]
    roomy = validator(max_value_bytes=1_000_000)
    roomy.validate(task(dp("services", items, t1=NOW)))
    error = refused(task(dp("services", [*items[:-1], "5"], t1=NOW)), roomy)
    assert "item [9999] '5' repeats" in str(error)


def test_rejected_huge_values_are_cut_short_in_the_message() -> None:
    error = refused(task(dp("asn", "z" * 500_000)))
    assert len(str(error)) < 400


@pytest.mark.parametrize(
    ("data_type", "largest"),
    [
        ("tag", False),
        ("int", -(2**31)),
        ("int64", -(2**63)),
        ("float", -2.2250738585072014e-308),
        ("float", -1.7976931348623157e308),
        ("time", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("mac", "ff:ff:ff:ff:ff:ff"),
        ("ipv4", "255.255.255.255"),
        ("category<string; a, b, žžžž>", "žžžž"),
        ("dict<a:int64, bb?:float>", {"a": -(2**63), "bb": -2.2250738585072014e-308}),
        ("array<int64>", [-(2**63)] * 3),
        ("link<ip,int64>", {"eid": "255.255.255.255", "data": -(2**63)}),
    ],
)
def test_size_bounds_hold_for_the_largest_values(data_type: str, largest: Any) -> None:
    """Attributes whose bound is within the limit skip the size check: it must be a bound."""
    from streamcore.limits import _bound
    from streamcore.model.datatypes import parse_data_type
    from streamcore.model.values import compile_parser, eid_parser
    from streamcore.state.encoding import dumps

    model = example_model()
    eid_types = {etype: spec.id_data_type for etype, spec in model.entities.items()}
    parsed = parse_data_type(data_type)
    value = compile_parser(parsed, {"ip": eid_parser("ipv4")})(largest)
    bound = _bound(parsed, eid_types, max_elements=3)
    assert bound is not None and len(dumps(value).encode()) <= bound
