"""Validation of data-points against the example model: normalization and rejections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address, IPv6Address
from typing import Any

import pytest

from streamcore.config.samples import T0, dp, every_kind_tasks, example_model
from streamcore.errors import InvalidDataPointError
from streamcore.model import DataPoint, DataPointTask, Link, MACAddress


def test_every_kind_validates_and_normalizes() -> None:
    model = example_model()
    tasks = [model.validate_task(task) for task in every_kind_tasks()]
    ip = {d.attr: d for d in tasks[0].data_points}
    assert tasks[0].eid == IPv4Address("192.0.2.1")
    assert ip["first_seen"].v == datetime(2023, 12, 31, 22, 0, tzinfo=UTC)
    assert ip["ipv6_twin"].v == IPv6Address("2001:db8::1")
    assert ip["device"].v == Link(MACAddress("aa:bb:cc:00:11:22"))
    assert ip["talks_to"].v == Link(IPv4Address("198.51.100.7"), 1234567890123)
    assert ip["last_conn"].v == {"port": 443, "proto": "tcp", "note": None}
    assert ip["open_ports"].c == 1.0
    assert ip["hostname"].c == 0.7
    assert ip["note"].t1 is None and ip["note"].c is None
    assert ip["services"].t2 == ip["services"].t1 == T0
    assert ip["traffic"].t2 == T0 + timedelta(minutes=15)  # 3 samples x 5m
    assert ip["alerts"].t2 == T0 + timedelta(minutes=1)
    assert ip["flows"].t2 == T0 + timedelta(minutes=3)
    assert ip["alerts"].v["severity"] == [0.5, 1.0]
    assert tasks[0].ttl_tokens == {"seen": datetime(2024, 6, 1, tzinfo=UTC)}
    assert tasks[1].data_points[3].v == Link(42, "primary")
    assert tasks[3].eid == 42
    assert all(d.etype == t.etype and d.eid == t.eid for t in tasks for d in t.data_points)


def test_validation_is_idempotent() -> None:
    model = example_model()
    for task in every_kind_tasks():
        once = model.validate_task(task)
        snapshot = repr(once)
        assert repr(model.validate_task(once)) == snapshot


def test_routing_key_uses_the_canonical_eid() -> None:
    model = example_model()
    task = model.validate_task(DataPointTask("device", "AA-BB-CC-00-11-22", [dp("vendor", "x")]))
    assert task.routing_key() == "device:aa:bb:cc:00:11:22"


T = "2024-05-01T12:00:00Z"

BAD: list[tuple[str, Any, str]] = [
    # (etype/eid/data-point builder id, data-point, expected fragment)
    ("unknown attr", dp("nope", 1), "unknown attribute 'nope'"),
    ("string", dp("note", 5), "attribute 'note', value 5: v: expected a string, got int"),
    ("binary", dp("is_public", "yes"), "v: expected true or false"),
    ("tag", dp("blocked", 1), "v: expected true or false"),
    ("int type", dp("asn", "12"), "v: expected an integer (32-bit int), got str"),
    ("int range", dp("asn", 2**31), "is out of range for 32-bit int"),
    ("int64 range", dp("bytes_total", 2**63), "out of range for 64-bit int64"),
    ("int bool", dp("asn", True), "expected an integer"),
    ("float", dp("rep_score", "high", t1=T), "v: expected a number, got str"),
    ("time", dp("first_seen", "yesterday"), "v: expected a time"),
    ("ipv6", dp("ipv6_twin", "1.2.3.4"), "'1.2.3.4' is not an IPv6 address"),
    ("json", dp("raw_whois", "{nope"), "string is not valid JSON text"),
    ("json nan", dp("raw_whois", {"x": float("nan")}), "JSON can't hold NaN"),
    ("special", dp("extra", {1: 2}), "JSON object keys must be strings"),
    (
        "category",
        dp("risk", "extreme"),
        "'extreme' is not one of the categories [low, medium, high]",
    ),
    ("array", dp("open_ports", [22, "x"], t1=T), "v: item [1]: expected an integer"),
    ("array type", dp("open_ports", 22, t1=T), "v: expected an array, got int"),
    ("set", dp("services", ["a", "a"], t1=T), "item [1] 'a' repeats an earlier item of the set"),
    ("dict missing", dp("last_conn", {"port": 1}, t1=T), "v: key 'proto' is required"),
    ("dict unknown", dp("last_conn", {"port": 1, "proto": "t", "x": 1}, t1=T), "unknown key(s) x"),
    (
        "dict type",
        dp("last_conn", {"port": "1", "proto": "t"}, t1=T),
        "key 'port': expected an integer",
    ),
    ("link", dp("device", {"eid": "zz"}, t1=T), "linked device id: 'zz' is not a MAC address"),
    ("link shape", dp("device", "aa:bb:cc:00:11:22", t1=T), "expected a link to device"),
    ("link data", dp("talks_to", {"eid": "1.2.3.4"}, t1=T), "a link to ip needs 'data'"),
    (
        "link data type",
        dp("talks_to", {"eid": "1.2.3.4", "data": "x"}, t1=T),
        "link data: expected an integer",
    ),
    (
        "link set",
        dp("domains", [{"eid": ""}]),
        "item [0]: linked domain id: expected a non-empty string id",
    ),
    ("no t1", dp("hostname", "x"), "t1: required for observations and timeseries"),
    ("bad t1", dp("hostname", "x", t1="soon"), "t1: expected a time"),
    ("t2 before t1", dp("hostname", "x", t1=T, t2="2024-05-01T11:00:00Z"), "t2 is before t1"),
    (
        "confidence",
        dp("hostname", "x", t1=T, c=1.5),
        "c: confidence must be a number from 0.0 to 1.0",
    ),
    ("src", dp("note", "x", src=5), "src: expected a string"),
    ("ts missing", dp("traffic", {"packets": [1]}, t1=T), "v: missing series bytes"),
    (
        "ts unknown",
        dp("alerts", {"time": [T], "severity": [1], "x": [1]}, t1=T),
        "unknown series x",
    ),
    (
        "ts lengths",
        dp("traffic", {"packets": [1, 2], "bytes": [1]}, t1=T),
        "series have different lengths",
    ),
    ("ts empty", dp("traffic", {"packets": [], "bytes": []}, t1=T), "must be a non-empty array"),
    ("ts type", dp("traffic", {"packets": [1.5], "bytes": [1]}, t1=T), "series 'packets' item [0]"),
    (
        "ts regular t2",
        dp("traffic", {"packets": [1], "bytes": [1]}, t1=T, t2=T),
        "t2 must be t1 + 1 x time_step",
    ),
    (
        "ts irregular t1",
        dp("alerts", {"time": ["2024-05-01T11:00:00Z"], "severity": [1]}, t1=T),
        "t1 is after the first item of series 'time'",
    ),
    (
        "ts irregular order",
        dp("alerts", {"time": ["2024-05-01T12:05:00Z", T], "severity": [1, 2]}, t1=T),
        "series 'time' is not ordered",
    ),
    (
        "ts irregular t2",
        dp("alerts", {"time": ["2024-05-01T12:05:00Z"], "severity": [1]}, t1=T, t2=T),
        "t2 is before the last item of series 'time'",
    ),
    (
        "ts intervals",
        dp(
            "flows",
            {"time_first": ["2024-05-01T12:05:00Z"], "time_last": [T], "packets": [1]},
            t1=T,
        ),
        "time_first[i] <= time_last[i]",
    ),
    ("read-only mirror", None, "the attribute is read-only"),
]


@pytest.mark.parametrize(("case", "data_point", "fragment"), BAD, ids=[b[0] for b in BAD])
def test_invalid_data_points_are_rejected_with_the_rule(
    case: str, data_point: DataPoint | None, fragment: str
) -> None:
    model = example_model()
    if data_point is None:
        task = DataPointTask("device", "aa:bb:cc:00:11:22", [dp("addresses", [{"eid": "1.2.3.4"}])])
    else:
        task = DataPointTask("ip", "192.0.2.1", [data_point])
    with pytest.raises(InvalidDataPointError) as info:
        model.validate_task(task)
    message = str(info.value)
    assert fragment in message
    assert message.startswith(("ip 192.0.2.1", "device aa:bb:cc:00:11:22"))


@pytest.mark.parametrize(
    ("task", "fragment"),
    [
        (DataPointTask("router", "x", [dp("a", 1)]), "unknown entity type 'router'"),
        (
            DataPointTask("ip", "300.1.1.1", [dp("asn", 1)]),
            "ip id '300.1.1.1': '300.1.1.1' is not an IPv4",
        ),
        (DataPointTask("person", "abc", [dp("name", "x")]), "person id 'abc': expected an integer"),
        (
            DataPointTask("ip", "192.0.2.1", []),
            "a task needs data-points, ttl_tokens or delete=true",
        ),
        (
            DataPointTask("ip", "192.0.2.1", [DataPoint("device", None, "vendor", "x")]),
            "data-point of entity type 'device'",
        ),
        (
            DataPointTask("ip", "192.0.2.1", [DataPoint("ip", "192.0.2.2", "asn", 1)]),
            "data-point of entity id '192.0.2.2'",
        ),
        (
            DataPointTask("ip", "192.0.2.1", ttl_tokens={"a": "never"}),
            "ttl_tokens: expected a time",
        ),
        (
            DataPointTask("ip", "192.0.2.1", [dp("asn", 1)], tags=[1]),
            "tags must be a list of strings",
        ),  # type: ignore[list-item]
    ],
)
def test_invalid_tasks_are_rejected(task: DataPointTask, fragment: str) -> None:
    with pytest.raises(InvalidDataPointError, match=None) as info:
        example_model().validate_task(task)
    assert fragment in str(info.value)


def test_one_bad_data_point_rejects_the_whole_task() -> None:
    task = DataPointTask("ip", "192.0.2.1", [dp("asn", 1), dp("asn", "bad")])
    with pytest.raises(InvalidDataPointError, match="value 'bad'"):
        example_model().validate_task(task)


def test_parsed_entity_ids_are_remembered_and_bad_ones_still_rejected() -> None:
    model = example_model()
    first = model.parse_eid("ip", "192.0.2.9")
    assert model.parse_eid("ip", "192.0.2.9") is first == IPv4Address("192.0.2.9")
    assert model.parse_eid("ip", first) is first
    for _ in range(2):
        with pytest.raises(ValueError, match="not an IPv4 address"):
            model.parse_eid("ip", "192.0.2.300")
