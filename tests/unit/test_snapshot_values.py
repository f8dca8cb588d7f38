"""Current values at snapshot time, by DP³'s rules: validity windows, confidence
extrapolation, single and multi value, plain values, links, timeseries history, master record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from streamcore.model.datapoint import Link
from streamcore.snapshot.values import current_values, extrapolate_confidence, timeseries_history
from streamcore.state.encoding import dumps
from streamcore.state.master import master_record
from streamcore.state.merge import chunk_key, interval_key
from streamcore.state.record import PLAIN_KEY, EntityRecord, Row
from streamcore.testing.config import model_spec_from_dicts

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
HISTORY = {"pre_validity": "10m", "post_validity": "20m"}
MODEL = model_spec_from_dicts(
    {
        "ip": {
            "entity": {"id": "ip", "name": "IP", "snapshot": True},
            "attribs": {
                "note": {"name": "n", "type": "plain", "data_type": "string"},
                "os": {
                    "name": "os",
                    "type": "observations",
                    "data_type": "string",
                    "confidence": True,
                    "history_params": HISTORY,
                },
                "port": {
                    "name": "p",
                    "type": "observations",
                    "data_type": "int",
                    "history_params": HISTORY,
                },
                "names": {
                    "name": "names",
                    "type": "observations",
                    "data_type": "string",
                    "confidence": True,
                    "multi_value": True,
                    "history_params": HISTORY,
                },
                "dom": {"name": "d", "type": "plain", "data_type": "set<link<domain>>"},
                "peer": {
                    "name": "peer",
                    "type": "observations",
                    "data_type": "link<domain,int>",
                    "history_params": HISTORY,
                },
                "traffic": {
                    "name": "t",
                    "type": "timeseries",
                    "timeseries_type": "irregular",
                    "series": {"bytes": {"data_type": "int"}},
                },
            },
        },
        "domain": {"entity": {"id": "domain", "name": "D", "snapshot": True}, "attribs": {}},
    }
)
OS_PARAMS = MODEL.entity_attributes["ip"]["os"].history_params  # type: ignore[union-attr]


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def obs(  # noqa: PLR0917 (reads like a data-point)
    record: EntityRecord, attr: str, v: Any, start: int, end: int, c: float | None = None
) -> None:
    t1, t2 = minutes(start), minutes(end)
    record.put(attr, interval_key(t1, t2, dumps(v)), Row(v, dumps(v), t1=t1, t2=t2, c=c))


def row(start: int, end: int, c: float = 0.8) -> Row:
    return Row("x", '"x"', t1=minutes(start), t2=minutes(end), c=c)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (-10, 0.0),  # at t1 - pre_validity: not valid any more
        (-11, 0.0),
        (-5, 0.4),  # half-way through pre_validity: half the confidence
        (0, 0.8),  # inside [t1, t2]: the data-point's confidence
        (30, 0.8),
        (40, 0.4),  # half-way through post_validity
        (50, 0.0),  # at t2 + post_validity
        (60, 0.0),
    ],
)
def test_confidence_is_interpolated_over_pre_and_post_validity(at: int, expected: float) -> None:
    assert extrapolate_confidence(row(0, 30), minutes(at), OS_PARAMS) == pytest.approx(expected)


def test_zero_validity_windows_mean_valid_only_inside_the_interval() -> None:
    params = OS_PARAMS.model_copy(
        update={"pre_validity": timedelta(), "post_validity": timedelta()}
    )
    assert extrapolate_confidence(row(0, 30), minutes(-0.01), params) == 0.0
    assert extrapolate_confidence(row(0, 30), minutes(15), params) == 0.8
    assert extrapolate_confidence(row(0, 30), minutes(30.01), params) == 0.0


def test_single_value_is_the_one_with_highest_interpolated_confidence() -> None:
    record = EntityRecord("ip", "1.2.3.4", "1.2.3.4")
    obs(record, "os", "linux", 0, 10, c=0.9)  # at 20: 0.9 * (1 - 10/20) = 0.45
    obs(record, "os", "windows", 25, 40, c=0.6)  # at 20: 0.6 * (1 - 5/10) = 0.3
    values = current_values(MODEL, record, minutes(20))
    assert values["os"] == "linux"
    assert values["os#c"] == pytest.approx(0.45)
    later = current_values(MODEL, record, minutes(26))
    assert (later["os"], later["os#c"]) == ("windows", pytest.approx(0.6))


def test_observation_without_confidence_counts_as_one_and_still_gets_a_c_key() -> None:
    record = EntityRecord("ip", "1.2.3.4", "1.2.3.4")
    obs(record, "port", 22, 0, 10)
    values = current_values(MODEL, record, minutes(5))
    assert values == {"eid": "1.2.3.4", "port": 22, "port#c": 1.0}


def test_observation_outside_every_window_is_left_out() -> None:
    record = EntityRecord("ip", "1.2.3.4", "1.2.3.4")
    obs(record, "os", "linux", 0, 10, c=1.0)
    assert current_values(MODEL, record, minutes(31)) == {"eid": "1.2.3.4"}


def test_multi_value_lists_every_valid_value_with_its_highest_confidence() -> None:
    record = EntityRecord("ip", "1.2.3.4", "1.2.3.4")
    obs(record, "names", "a.example", 0, 10, c=0.5)
    obs(record, "names", "b.example", 0, 30, c=0.7)
    obs(record, "names", "a.example", 15, 30, c=0.9)
    obs(record, "names", "gone.example", -100, -90, c=1.0)
    values = current_values(MODEL, record, minutes(20))
    pairs = dict(zip(values["names"], values["names#c"], strict=True))
    assert pairs == {"a.example": pytest.approx(0.9), "b.example": pytest.approx(0.7)}


def test_plain_values_as_they_are_and_links_as_eid_dicts() -> None:
    record = EntityRecord("ip", "1.2.3.4", "1.2.3.4")
    record.put("note", PLAIN_KEY, Row("hi", '"hi"', t1=T0))
    links = [Link("a.example"), Link("b.example")]
    record.put("dom", PLAIN_KEY, Row(links, dumps(links), t1=T0))
    peer = Link("c.example", 1500)
    obs(record, "peer", peer, 0, 10)
    values = current_values(MODEL, record, minutes(5))
    assert values["note"] == "hi"
    assert values["dom"] == [{"eid": "a.example"}, {"eid": "b.example"}]
    assert values["peer"] == {"eid": "c.example", "data": 1500}


def test_timeseries_are_not_values_but_history_for_their_hooks() -> None:
    record = EntityRecord("ip", "1.2.3.4", "1.2.3.4")
    for start in (10, 0):
        v = {"bytes": [start], "time": [minutes(start)]}
        record.put(
            "traffic",
            chunk_key(minutes(start)),
            Row(v, dumps(v), minutes(start), minutes(start + 5)),
        )
    assert "traffic" not in current_values(MODEL, record, minutes(1))
    history = timeseries_history(record, "traffic")
    assert [item["t1"] for item in history] == [minutes(0), minutes(10)]
    assert history[0]["v"]["bytes"] == [0]


def test_master_record_has_dp3_document_shape() -> None:
    record = EntityRecord("ip", "1.2.3.4", "1.2.3.4", exists=True, created=T0)
    record.put("note", PLAIN_KEY, Row("hi", '"hi"', t1=T0))
    obs(record, "os", "linux", 0, 10, c=0.9)
    document = master_record(record, MODEL)
    assert document["_id"] == "1.2.3.4"
    assert document["#hash"] == 32693  # dp3.common.task.HASH("ip:1.2.3.4"), dp-cubed 0.10.0
    assert document["#time_created"] == T0
    assert document["note"] == {"v": "hi", "ts_last_update": T0}
    assert document["os"] == [{"t1": minutes(0), "t2": minutes(10), "v": "linux", "c": 0.9}]
