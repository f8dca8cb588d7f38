"""Control, telemetry and health routes of the API on the real servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from api_support import api_harness, ingest_worker
from prometheus_client import CollectorRegistry
from support import wait_for

from streamcore.metrics import Metrics
from streamcore.module.loader import load_modules
from streamcore.roles import build_worker_replica
from streamcore.runtime import open_runtime
from streamcore.settings import Settings
from streamcore.state.snapshots import SnapshotStore

pytestmark = [pytest.mark.kafka, pytest.mark.cassandra]


def test_control_actions_are_acknowledged_by_live_replicas(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    with api_harness(settings, app_name, keyspace) as harness:
        runtime = open_runtime(harness.settings, harness.services.config, app_name)
        platform = runtime.config.platform_config(app_name)
        replica = build_worker_replica(
            runtime, platform, load_modules(platform), Metrics(CollectorRegistry()), "r1"
        )
        replica.listener.start()
        try:
            from support import running

            with running(replica.worker):
                client = harness.client

                def ping() -> object:
                    answer = client.get("/control/ping").json()
                    return answer if answer["acknowledged"] == ["r1"] else None

                answer = wait_for(ping, 30)
                assert answer["detail"] == "Action sent."
                refresh = client.get("/control/refresh_on_entity_creation", params={"etype": "ip"})
                assert refresh.status_code == 200, refresh.text
                assert refresh.json()["acknowledged"] == ["r1"]
        finally:
            replica.listener.close()
            runtime.close()
        assert harness.client.get("/control/nope").status_code == 422
        missing = harness.client.get("/control/refresh_on_entity_creation", params={"etype": "x"})
        assert missing.status_code == 422
        module = harness.client.get("/control/refresh_module_config", params={"module": "x"})
        assert module.status_code == 422
        # refresh_module_config is not in this config's control.yml: refused before sending
        assert harness.client.get("/control/refresh_module_config").status_code == 422


def test_telemetry(settings: Settings, app_name: str, keyspace: str) -> None:
    with api_harness(settings, app_name, keyspace) as harness:
        client = harness.client
        now = datetime.now(UTC)
        body = [
            {"type": "ip", "id": "192.0.2.1", "attr": "note", "v": "a", "src": "feed"},
            {
                "type": "ip",
                "id": "192.0.2.1",
                "attr": "rep_score",
                "v": 0.5,
                "t1": (now - timedelta(minutes=10)).isoformat(),
                "src": "scan",
            },
        ]
        assert client.post("/datapoints", json=body).status_code == 200
        assert harness.services.archive.drain()
        validity = client.get("/telemetry/sources_validity").json()
        assert set(validity) == {"feed", "scan"}
        assert client.get("/telemetry/sources_age").json()["scan"] >= 9
        assert (
            client.get("/telemetry/sources_age", params={"unit": "seconds"}).json()["scan"] >= 590
        )
        assert client.get("/telemetry/sources_age", params={"unit": "hours"}).status_code == 422

        harness.snapshot("ip", {"192.0.2.1": {"note": "a", "rep_score": 0.5}}, now)
        per_attr = client.get("/telemetry/entities_per_attr").json()
        assert per_attr["ip"]["note"] == 1 and per_attr["ip"]["asn"] == 0
        sizes = client.get("/telemetry/attribute_bson_sizes").json()
        assert sizes["ip"]["attributes"]["note"] == {"count": 1, "total_bytes": 3, "max_bytes": 3}

        store = SnapshotStore(
            harness.session, harness.settings.cassandra.keyspace, harness.services.config.model_spec
        )
        run = now.replace(microsecond=0)
        store.add_run(run, 2, "schedule", "test")
        store.task_done(run, 0, 5, "w")
        summary = client.get("/telemetry/snapshot_summary").json()
        assert summary["latest_age"] is not None and summary["finished_age"] is None
        store.task_done(run, 1, 7, "w")
        summary = client.get("/telemetry/snapshot_summary").json()
        assert summary["entities"] == 12
        metadata = client.get("/telemetry/metadata", params={"module": "SnapShooter"}).json()
        assert [m["tasks_done"] for m in metadata] == [2]
        assert client.get("/telemetry/metadata", params={"module": "other"}).json() == []
        from streamcore.state.progress import ProgressStore

        assert client.get("/telemetry/metadata", params={"module": "Updater"}).json() == []
        ProgressStore(harness.session, harness.settings.cassandra.keyspace).current(
            "ip:hourly", 60, now - timedelta(hours=1)
        )
        updater = client.get("/telemetry/metadata", params={"module": "Updater"}).json()
        assert [(m["thread"], m["iterations"]) for m in updater] == [("ip:hourly", 60)]
        oldest = client.get("/telemetry/metadata", params={"sort": "oldest"}).json()
        assert [m["module"] for m in oldest] == ["Updater", "SnapShooter"]

        queues = client.get("/telemetry/rabbitmq/queues").json()["queues"]
        ingest = next(q for q in queues if q["queue"].endswith(".ingest"))
        assert ingest["lag"] == 1  # one task (one entity), no worker yet
        with ingest_worker(harness):
            wait_for(
                lambda: (
                    next(
                        q
                        for q in client.get("/telemetry/rabbitmq/queues").json()["queues"]
                        if q["queue"].endswith(".ingest")
                    )["lag"]
                    == 0
                ),
                30,
            )


def test_health_readiness_and_metrics(settings: Settings, app_name: str, keyspace: str) -> None:
    with api_harness(settings, app_name, keyspace) as harness:
        client = harness.client
        assert client.get("/").json() == {"detail": "It works!"}
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").json() == {"detail": "ready"}
        response = client.get("/entity/ip/get", headers={"X-Request-ID": "abc"})
        assert response.headers["X-Request-ID"] == "abc"
        metrics = client.get("/metrics").text
        assert (
            'streamcore_api_requests_total{method="GET",route="/entity/{etype}/get",status="200"}'
            in metrics
        )
        client.get("/v2/entity/ip/", params={"eid": "192.0.2.1"})
        assert 'route="/v2/entity/{etype}/"' in client.get("/metrics").text
        schema = client.get("/openapi.json").json()
        assert "/datapoints" in schema["paths"] and "/v2/entity/{etype}/attr" in schema["paths"]
        assert client.get("/docs").status_code == 200


def test_kafka_unreachable_gives_503_and_not_ready(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{sock.getsockname()[1]}"
    with api_harness(settings, app_name, keyspace, produce_timeout_seconds=2.0) as harness:
        harness.services.publisher._producer = _producer_for(harness.settings, dead)
        harness.services.readiness._checks["kafka"] = _kafka_check(dead)
        harness.services.readiness.check_now()
        ready = harness.client.get("/readyz")
        assert ready.status_code == 503
        assert "kafka unreachable" in ready.json()["detail"][0]
        body = [{"type": "ip", "id": "192.0.2.1", "attr": "note", "v": "x"}]
        response = harness.client.post("/datapoints", json=body)
        assert response.status_code == 503
        assert "Kafka" in response.json()["detail"]
        control = harness.client.get("/control/make_snapshots")
        assert control.status_code == 503
        assert "kafka unreachable" in control.json()["detail"]
        assert harness.client.get("/entity/ip/get").status_code == 200  # reads go on


def _producer_for(settings: Settings, bootstrap: str) -> object:
    from streamcore.kafka.clients import make_producer

    kafka = settings.kafka.model_copy(update={"bootstrap_servers": bootstrap})
    options = {"message.timeout.ms": 1500, "linger.ms": 5, "log_level": 0}
    return make_producer(kafka, lambda _r: None, **options)


def _kafka_check(bootstrap: str) -> object:
    from streamcore.kafka.health import broker_answers

    def check() -> None:
        if not broker_answers({"bootstrap.servers": bootstrap}, timeout=1.0):
            raise ConnectionError("no broker answered")

    return check


def test_cassandra_unreachable_gives_503_and_not_ready(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    from api_support import TcpProxy

    proxy = TcpProxy(("127.0.0.1", settings.cassandra.port))
    proxied = settings.model_copy(
        update={"cassandra": settings.cassandra.model_copy(update={"port": proxy.port})}
    )
    with api_harness(proxied, app_name, keyspace, request_timeout_seconds=3.0) as harness:
        client = harness.client
        assert client.get("/entity/ip/192.0.2.1").status_code == 200
        proxy.cut()
        harness.services.readiness.check_now()
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "cassandra unreachable" in ready.json()["detail"][0]
        for path in ("/entity/ip/192.0.2.1", "/entity/ip/get", "/entities"):
            response = client.get(path)
            assert response.status_code == 503, (path, response.text)
            assert "Cassandra unavailable" in response.json()["detail"]
