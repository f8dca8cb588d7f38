"""POST /datapoints on the real servers: accepted data-points reach the input topic as one
task per entity; a bad request produces nothing."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import api_harness, now_iso
from support import read_topic

from streamcore.codec.tasks import TaskDecoder
from streamcore.config import load_config
from streamcore.settings import Settings

pytestmark = [pytest.mark.kafka, pytest.mark.cassandra]


def _tasks(harness: Any, expect: int) -> list[Any]:
    """The tasks on the input topic (``expect`` of them; fewer after the wait)."""
    topic = harness.settings.topics.name("input", harness.app_name)
    decoder = TaskDecoder(harness.services.config.model_spec)
    records = read_topic(harness.settings, topic, expect, timeout=5)
    return [decoder.decode(record.value()) for record in records]


def test_datapoints_grouped_per_entity_and_acknowledged(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    body = [
        {"type": "ip", "id": "192.0.2.1", "attr": "note", "v": "first"},
        {"type": "ip", "id": "192.0.2.2", "attr": "asn", "v": 64500},
        {
            "type": "ip",
            "id": "192.0.2.1",
            "attr": "open_ports",
            "v": [22, 80],
            "t1": now_iso(-60),
            "t2": now_iso(),
            "src": "scanner",
        },
    ]
    with api_harness(settings, app_name, keyspace) as harness:
        response = harness.client.post("/datapoints", json=body)
        assert response.status_code == 200, response.text
        assert response.json() == {"detail": "OK"}
        tasks = _tasks(harness, 2)
        by_eid = {str(task.eid): task for task in tasks}
        assert sorted(by_eid) == ["192.0.2.1", "192.0.2.2"]
        assert [dp.attr for dp in by_eid["192.0.2.1"].data_points] == ["note", "open_ports"]
        metrics = harness.client.get("/metrics").text
        assert "streamcore_api_datapoints_produced_total 3.0" in metrics
        assert harness.services.archive.drain()
        raw = harness.client.get("/entity/ip/raw/get", params={"eid": "192.0.2.1"}).json()
        assert raw["count"] == 2
        assert {row["attr"] for row in raw["data"]} == {"note", "open_ports"}
        by_src = harness.client.get("/v2/entity/ip/raw/get", params={"src": "scanner"}).json()
        assert [(r["id"], r["attr"], r["v"]) for r in by_src["data"]] == [
            ("192.0.2.1", "open_ports", [22, 80])
        ]
        by_attr = harness.client.get("/entity/ip/raw/get", params={"attr": "asn"}).json()
        assert [r["v"] for r in by_attr["data"]] == [64500]
        paged = harness.client.get("/entity/ip/raw/get", params={"skip": 1, "limit": 1}).json()
        assert paged["count"] == 1
        bad = harness.client.get("/entity/ip/raw/get", params={"attr": "nope"})
        assert bad.status_code == 422
        validity = harness.client.get("/telemetry/sources_validity").json()
        assert list(validity) == ["scanner"]


@pytest.mark.parametrize(
    "case",
    [
        ({"type": "nope", "id": "1", "attr": "note", "v": "x"}, ["body", 1, "type"], "nope"),
        ({"type": "ip", "id": "1.2.3.4", "attr": "nope", "v": "x"}, ["body", 1, "attr"], "nope"),
        ({"type": "ip", "id": "not-an-ip", "attr": "note", "v": "x"}, ["body", 1, "id"], "ip"),
        ({"type": "ip", "id": "1.2.3.4", "attr": "asn", "v": "many"}, ["body", 1, "v"], "asn"),
        ({"type": "ip", "id": "1.2.3.4", "attr": "note"}, ["body", 1, "v"], None),
    ],
)
def test_one_invalid_datapoint_refuses_the_request(
    settings: Settings, app_name: str, keyspace: str, case: tuple[Any, list[Any], Any]
) -> None:
    item, loc, text = case
    good = {"type": "ip", "id": "192.0.2.9", "attr": "note", "v": "fine"}
    with api_harness(settings, app_name, keyspace) as harness:
        response = harness.client.post("/datapoints", json=[good, item])
        assert response.status_code == 422, response.text
        detail = response.json()["detail"][0]
        assert detail["loc"] == loc
        assert text is None or text in detail["msg"]
        assert _tasks(harness, 1) == []


def test_bad_json_and_wrong_shapes_are_422(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    with api_harness(settings, app_name, keyspace) as harness:
        bad = harness.client.post(
            "/datapoints", content=b"[{", headers={"content-type": "application/json"}
        )
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["type"] == "json_invalid"
        shape = harness.client.post("/datapoints", json={"type": "ip"})
        assert shape.status_code == 422
        missing = harness.client.post("/datapoints", json=[{"type": "ip", "attr": "note"}])
        assert missing.status_code == 422
        assert missing.json()["detail"][0]["loc"] == ["body", 0, "id"]
        assert _tasks(harness, 1) == []


def test_request_over_the_size_limit_is_413(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    body = [{"type": "ip", "id": "192.0.2.1", "attr": "note", "v": "x" * 5000}]
    with api_harness(settings, app_name, keyspace, max_request_bytes=1000) as harness:
        response = harness.client.post("/datapoints", json=body)
        assert response.status_code == 413
        assert "1000" in response.json()["detail"]
        assert _tasks(harness, 1) == []


def test_token_guards_writes_and_control(settings: Settings, app_name: str, keyspace: str) -> None:
    body = [{"type": "ip", "id": "192.0.2.1", "attr": "note", "v": "x"}]
    with api_harness(settings, app_name, keyspace, token="s3cret") as harness:
        client = harness.client
        assert client.post("/datapoints", json=body).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert client.post("/datapoints", json=body, headers=wrong).status_code == 401
        assert client.get("/control/make_snapshots").status_code == 401
        assert client.delete("/entity/ip/192.0.2.1").status_code == 401
        assert client.get("/entity/ip/get").status_code == 200  # reads stay open
        good = {"Authorization": "Bearer s3cret"}
        assert client.post("/datapoints", json=body, headers=good).status_code == 200
        assert len(_tasks(harness, 1)) == 1


def test_value_over_the_input_limit_is_refused(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    big = settings.limits.max_value_bytes + 10
    body = [{"type": "ip", "id": "192.0.2.1", "attr": "note", "v": "x" * big}]
    with api_harness(settings, app_name, keyspace) as harness:
        response = harness.client.post("/datapoints", json=body)
        assert response.status_code == 422
        assert "max_value_bytes" in response.json()["detail"][0]["msg"]
        assert _tasks(harness, 1) == []


def test_config_used_by_the_tests_loads() -> None:
    from api_support import API_CONFIG

    assert "ip" in load_config(API_CONFIG).model_spec.entities


def test_task_over_max_data_points_is_413(settings: Settings, app_name: str, keyspace: str) -> None:
    from streamcore.settings import LimitsSettings

    body = [{"type": "ip", "id": "192.0.2.1", "attr": "note", "v": str(n)} for n in range(3)]
    limits = LimitsSettings(max_data_points=2)
    with api_harness(settings, app_name, keyspace, limits=limits) as harness:
        response = harness.client.post("/datapoints", json=body)
        assert response.status_code == 413
        assert "max_data_points=2" in response.json()["detail"][0]["msg"]
        assert harness.client.post("/datapoints", json=body[:2]).status_code == 200
        assert len(_tasks(harness, 2)) == 1
