"""The entity routes, v1 and v2, on the real servers: data goes in through POST
/datapoints, a real ingestion worker writes the master records, snapshots are stored as
the snapshot worker stores them, and every read route answers in DP³'s shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_support import ApiHarness, api_harness, ingest_worker, now_iso
from support import read_topic, wait_for

from streamcore.codec.tasks import TaskDecoder
from streamcore.settings import Settings

pytestmark = [pytest.mark.kafka, pytest.mark.cassandra]

IP = "192.0.2.10"


def _post(harness: ApiHarness, body: list[dict[str, Any]]) -> None:
    response = harness.client.post("/datapoints", json=body)
    assert response.status_code == 200, response.text


def _seeded(harness: ApiHarness) -> None:
    start, end = now_iso(-120), now_iso(-60)
    _post(
        harness,
        [
            {"type": "ip", "id": IP, "attr": "note", "v": "edge router"},
            {
                "type": "ip",
                "id": IP,
                "attr": "open_ports",
                "v": [22, 443],
                "t1": now_iso(-600),
                "t2": now_iso(-300),
                "src": "scan",
            },
            {
                "type": "ip",
                "id": IP,
                "attr": "alerts",
                "v": {"time": [start, end], "severity": [0.5, 0.9]},
                "t1": start,
                "t2": end,
            },
        ],
    )
    wait_for(lambda: harness.client.get(f"/entity/ip/{IP}/master").json().get("note"), 30)


def test_entity_reads_v1_and_v2(settings: Settings, app_name: str, keyspace: str) -> None:
    with api_harness(settings, app_name, keyspace) as harness, ingest_worker(harness):
        client = harness.client
        _seeded(harness)
        now = datetime.now(UTC)
        older, newer = now - timedelta(hours=2), now - timedelta(hours=1)
        harness.snapshot("ip", {IP: {"note": "old", "open_ports": [22]}}, older)
        harness.snapshot("ip", {IP: {"note": "edge router", "open_ports": [22, 443]}}, newer)

        master = client.get(f"/entity/ip/{IP}/master").json()
        assert master["note"]["v"] == "edge router"
        assert [item["v"] for item in master["open_ports"]] == [[22, 443]]
        assert master["alerts"][0]["v"]["severity"] == [0.5, 0.9]
        assert "#time_created" in master
        assert client.get("/v2/entity/ip/master", params={"eid": IP}).json() == master

        data = client.get(f"/entity/ip/{IP}").json()
        assert data["empty"] is False
        assert [s["note"] for s in data["snapshots"]] == ["old", "edge router"]
        assert client.get("/v2/entity/ip/", params={"eid": IP}).json() == data
        assert client.get("/v2/entity/ip", params={"eid": IP}).json() == data

        page = client.get(f"/entity/ip/{IP}/snapshots", params={"skip": 1, "limit": 1}).json()
        assert [s["note"] for s in page] == ["edge router"]
        ranged = client.get(
            "/v2/entity/ip/snapshots",
            params={"eid": IP, "date_from": (older + timedelta(minutes=30)).isoformat()},
        ).json()
        assert [s["note"] for s in ranged] == ["edge router"]

        plain = client.get(f"/entity/ip/{IP}/get/note").json()
        assert plain == {"attr_type": 1, "current_value": "edge router", "history": []}
        obs = client.get("/v2/entity/ip/attr", params={"eid": IP, "attr": "open_ports"}).json()
        assert obs["attr_type"] == 2
        assert obs["current_value"] == [22, 443]
        assert [h["v"] for h in obs["history"]] == [[22, 443]]
        series = client.get(f"/entity/ip/{IP}/get/alerts").json()
        assert series["attr_type"] == 4 and len(series["history"]) == 1
        future = client.get(
            f"/entity/ip/{IP}/get/alerts", params={"date_from": now_iso(3600)}
        ).json()
        assert future["history"] == []

        empty = client.get("/entity/ip/198.51.100.1").json()
        assert empty == {"empty": True, "master_record": {}, "snapshots": []}

        entities = client.get("/entities").json()
        assert entities["ip"]["eid_estimate_count"] == 1
        assert entities["ip"]["attribs"]["note"]["editable"] is True
        assert entities["person"]["id_data_type"] == "int"


def test_entity_errors(settings: Settings, app_name: str, keyspace: str) -> None:
    with api_harness(settings, app_name, keyspace) as harness:
        client = harness.client
        unknown = client.get("/entity/nope/1.2.3.4")
        assert unknown.status_code == 422
        assert unknown.json()["detail"][0]["loc"] == ["path", "etype"]
        bad_eid = client.get("/entity/ip/not-an-ip/master")
        assert bad_eid.status_code == 422
        assert bad_eid.json()["detail"][0]["loc"] == ["path", "eid"]
        v2_bad = client.get("/v2/entity/ip/master", params={"eid": "x"})
        assert v2_bad.json()["detail"][0]["loc"] == ["query", "eid"]
        assert client.get("/v2/entity/ip/master").status_code == 422  # eid required
        attr = client.get(f"/entity/ip/{IP}/get/nope")
        assert attr.status_code == 422
        assert attr.json()["detail"][0]["loc"] == ["path", "attr"]
        v2_attr = client.get("/v2/entity/ip/attr", params={"eid": IP, "attr": "nope"})
        assert v2_attr.json()["detail"][0]["loc"] == ["query", "attr"]
        assert client.get("/entity/nope/get").status_code == 422
        assert client.get("/entity/ip/_/distinct/nope").status_code == 422
        assert client.get("/entity/ip/_/distinct/raw_whois").status_code == 400


def _decoded(harness: ApiHarness, expect: int) -> list[Any]:
    topic = harness.settings.topics.name("input", harness.app_name)
    decoder = TaskDecoder(harness.services.config.model_spec)
    return [decoder.decode(r.value()) for r in read_topic(harness.settings, topic, expect, 5)]


def test_set_ttl_and_delete_go_through_the_input_topic(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    with api_harness(settings, app_name, keyspace) as harness:
        client = harness.client
        assert client.post(f"/entity/ip/{IP}/set/note", json={"value": "hi"}).json() == {
            "detail": "OK"
        }
        v2 = client.post(
            "/v2/entity/ip/attr", params={"eid": IP, "attr": "risk"}, json={"value": "high"}
        )
        assert v2.status_code == 200, v2.text
        bad = client.post(f"/entity/ip/{IP}/set/risk", json={"value": "extreme"})
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["body", "value"]
        assert client.post(f"/entity/ip/{IP}/set/note", content=b"{").status_code == 422
        until = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        assert client.post(f"/entity/ip/{IP}/ttl", json={"manual": until}).status_code == 200
        assert (
            client.post("/v2/entity/ip/ttl", params={"eid": IP}, json={"other": until}).status_code
            == 200
        )
        assert client.post(f"/entity/ip/{IP}/ttl", json={"x": "soon"}).status_code == 422
        assert client.delete(f"/entity/ip/{IP}").status_code == 200
        assert client.delete("/v2/entity/ip/", params={"eid": IP}).status_code == 200
        tasks = _decoded(harness, 6)
        assert [(t.data_points[0].attr, t.data_points[0].v) for t in tasks[:2]] == [
            ("note", "hi"),
            ("risk", "high"),
        ]
        assert tasks[0].data_points[0].src.endswith("via API")
        assert [set(t.ttl_tokens or {}) for t in tasks[2:4]] == [{"manual"}, {"other"}]
        assert [t.delete for t in tasks[4:]] == [True, True]


def _fill(harness: ApiHarness) -> None:
    docs = {
        f"10.0.{i // 256}.{i % 256}": {
            "note": f"host-{i:03d}",
            "asn": 64500 + i % 3,
            "risk": ["low", "medium", "high"][i % 3],
            "open_ports": [22, 80] if i % 2 else [443],
        }
        for i in range(30)
    }
    docs["192.168.1.1"] = {"note": "home", "asn": 1, "risk": "low", "open_ports": []}
    harness.snapshot("ip", docs, datetime.now(UTC) - timedelta(minutes=5))


def _eids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [doc["eid"] for doc in response.json()["data"]]


def test_listing_filters_sorting_counting_distinct(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    with api_harness(settings, app_name, keyspace) as harness:
        client = harness.client
        _fill(harness)

        def listing(**params: Any) -> Any:
            query = {
                k: json.dumps(v) if k.endswith("filter") or k.endswith("filters") else v
                for k, v in params.items()
            }
            return client.get("/entity/ip/get", params=query)

        first = listing().json()
        assert first["count"] == 20 and first["time_created"] is not None
        assert len(_eids(listing(limit=0))) == 31
        assert len(_eids(listing(skip=25, limit=10))) == 6
        assert _eids(listing(generic_filter={"note": "home"})) == ["192.168.1.1"]
        assert _eids(listing(generic_filter={"ip_prefix": 1})) == []
        prefix = listing(generic_filter={"eid": "$$IPv4Prefix{192.168.0.0/16}"})
        assert _eids(prefix) == ["192.168.1.1"]
        assert len(_eids(listing(generic_filter={"asn": {"$gte": 64501}}, limit=0))) == 20
        assert len(_eids(listing(generic_filter={"asn": {"$in": [1, 64500]}}, limit=0))) == 11
        assert len(_eids(listing(generic_filter={"open_ports": 80}, limit=0))) == 15
        either = {"$or": [{"note": {"$regex": "^host-00"}}, {"risk": "high"}]}
        assert len(_eids(listing(generic_filter=either, limit=0))) == 10 + 10 - 3
        negated = {"note": {"$not": {"$regex": "host"}}}
        assert _eids(listing(generic_filter=negated)) == ["192.168.1.1"]
        assert len(_eids(listing(generic_filter={"missing": {"$exists": False}}, limit=0))) == 31
        assert _eids(listing(fulltext_filters={"note": "ho?me"})) == ["192.168.1.1"]
        assert _eids(listing(fulltext_filters={"eid": r"^192\."})) == ["192.168.1.1"]

        ordered = _eids(listing(sort=["asn:-1", "note"], limit=3))
        assert ordered == ["10.0.0.2", "10.0.0.5", "10.0.0.8"]
        assert _eids(listing(sort="asn", limit=1)) == ["192.168.1.1"]

        unsupported = listing(generic_filter={"asn": {"$where": "1"}})
        assert unsupported.status_code == 400
        assert "$where" in unsupported.json()["detail"]
        assert listing(generic_filter={"$text": {"$search": "x"}}).status_code == 400
        assert listing(generic_filter="[1]").status_code == 400
        assert client.get("/entity/ip/get", params={"generic_filter": "{"}).status_code == 422
        assert listing(sort="nope:1").status_code == 422
        assert listing(sort="open_ports").status_code == 422
        assert listing(sort="asn:2").status_code == 422

        count = client.get("/entity/ip/count", params={"generic_filter": '{"risk": "low"}'})
        assert count.json() == {"total_count": 11}
        assert client.get("/v2/entity/ip/count").json() == {"total_count": 31}
        old = client.get("/entity/ip", params={"limit": 5}).json()  # DP³ 0.10, deprecated
        assert (old["count"], old["total_count"]) == (5, 31)
        distinct = client.get("/entity/ip/_/distinct/risk").json()
        assert distinct == {"low": 11, "medium": 10, "high": 10}
        ports = client.get("/v2/entity/ip/_/distinct/open_ports").json()
        assert ports == {"22": 15, "80": 15, "443": 15}


def test_scan_limit_bounds_a_filtered_listing(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    with api_harness(settings, app_name, keyspace, scan_limit=10) as harness:
        _fill(harness)
        client = harness.client
        assert client.get("/entity/ip/get", params={"limit": 5}).status_code == 200
        refused = client.get("/entity/ip/count")
        assert refused.status_code == 400
        assert "SCAN_LIMIT" in refused.json()["detail"]
        # equalities the storage-attached index answers read only the matching rows
        for query, total in (
            ({"note": "home"}, 1),
            ({"asn": 1}, 1),
            ({"note": "home", "risk": {"$eq": "low"}}, 1),  # the first equality is looked up
            ({"note": "nobody"}, 0),
        ):
            count = client.get("/entity/ip/count", params={"generic_filter": json.dumps(query)})
            assert count.json() == {"total_count": total}, query
        listed = client.get("/entity/ip/get", params={"generic_filter": '{"asn": 1}'})
        assert _eids(listed) == ["192.168.1.1"]
        scanned = client.get("/entity/ip/count", params={"generic_filter": '{"asn": {"$gt": 0}}'})
        assert scanned.status_code == 400
