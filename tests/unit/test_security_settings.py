"""Security settings and the metrics endpoint's guard: bind address, credentials, secrets."""

from __future__ import annotations

import base64
import logging
import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr, ValidationError

from streamcore.metrics import EndpointAuth, Health, Metrics, serve_metrics
from streamcore.settings import CassandraSettings, MetricsSettings, Settings


def get(port: int, path: str, authorization: str | None = None) -> tuple[int, str, str | None]:
    """(status, body, WWW-Authenticate) of a GET on the local endpoint."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if authorization:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode(), None
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), exc.headers.get("WWW-Authenticate")


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_the_endpoint_binds_loopback_unless_told_otherwise() -> None:
    assert MetricsSettings().host == "127.0.0.1"
    health = Health()
    server = serve_metrics(MetricsSettings(port=0), CollectorRegistry(), health)
    assert server is None  # port 0: off
    settings = MetricsSettings(port=_free_port())
    server = serve_metrics(settings, CollectorRegistry(), health)
    assert server is not None
    try:
        assert server._httpd.server_address[0] == "127.0.0.1"
    finally:
        server.close()


def test_metrics_need_the_credentials_and_health_stays_open_without_detail() -> None:
    settings = MetricsSettings(
        port=_free_port(),
        username="prom",
        password=SecretStr("s3cret"),
        token=SecretStr("tok-123"),
    )
    metrics = Metrics(CollectorRegistry())
    health = Health(liveness_seconds=60)
    health.checks.append(lambda: "no partitions assigned")
    server = serve_metrics(settings, metrics.registry, health)
    assert server is not None
    port = server.port
    try:
        for wrong in (
            None,
            basic("prom", "nope"),
            basic("other", "s3cret"),
            "Bearer tok-12",
            "Bearer tok-1234",
            "Basic !!notbase64",
            "Digest x",
        ):
            status, body, challenge = get(port, "/metrics", wrong)
            assert status == 401, wrong
            assert "streamcore_" not in body
            assert challenge == 'Basic realm="streamcore", Bearer realm="streamcore"'
        status, body, _ = get(port, "/metrics", basic("prom", "s3cret"))
        assert status == 200 and "streamcore_ingest_records_consumed_total" in body
        status, body, _ = get(port, "/metrics", "Bearer tok-123")
        assert status == 200 and "streamcore_ingest_records_consumed_total" in body

        # Probes carry no credentials: they get the status, not the reasons.
        assert get(port, "/healthz")[:2] == (200, "ok\n")
        assert get(port, "/readyz")[:2] == (503, "not ready\n")
        assert get(port, "/readyz", "Bearer tok-123")[:2] == (503, "no partitions assigned\n")
        health.liveness_seconds = 0.0
        assert get(port, "/healthz")[:2] == (503, "unavailable\n")
        status, body, _ = get(port, "/healthz", basic("prom", "s3cret"))
        assert status == 503 and "has not run" in body
    finally:
        server.close()


def test_a_token_alone_guards_with_bearer_only() -> None:
    auth = EndpointAuth.from_settings(MetricsSettings(token=SecretStr("t")))
    assert auth is not None
    assert auth.challenges() == ['Bearer realm="streamcore"']
    assert auth.allows("Bearer t") and auth.allows("bearer  t ")
    assert not auth.allows(basic("", "t"))
    assert EndpointAuth.from_settings(MetricsSettings()) is None


def test_basic_auth_needs_both_user_and_password() -> None:
    with pytest.raises(ValidationError, match="go together"):
        MetricsSettings(username="prom")
    with pytest.raises(ValidationError, match="go together"):
        MetricsSettings(password=SecretStr("x"))


def test_secret_client_options_are_secret_typed_and_the_env_format_still_works(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(
        "STREAMCORE_KAFKA__CLIENT_OPTIONS",
        '{"linger.ms": "5", "sasl.oauthbearer.config": "principal=svc clientSecret=hunter2",'
        ' "ssl.keystore.password": "hunter3", "sasl.oauthbearer.client.secret": "hunter4"}',
    )
    settings = Settings()
    options = settings.kafka.client_options
    assert options["linger.ms"] == "5"
    for key in (
        "sasl.oauthbearer.config",
        "ssl.keystore.password",
        "sasl.oauthbearer.client.secret",
    ):
        assert isinstance(options[key], SecretStr), key
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("settings: %s", settings)
    for secret in ("hunter2", "hunter3", "hunter4"):
        assert secret not in shown
        assert secret not in caplog.text
    config = settings.kafka.client_config()
    assert config["linger.ms"] == "5"
    assert config["sasl.oauthbearer.config"] == "principal=svc clientSecret=hunter2"
    assert config["ssl.keystore.password"] == "hunter3"


def test_cassandra_tls_is_implied_by_its_files() -> None:
    assert not CassandraSettings().ssl_enabled
    assert CassandraSettings(ssl_ca_file="/ca.pem").ssl_enabled
    with pytest.raises(ValidationError, match="go together"):
        CassandraSettings(ssl_certfile="/c.pem")


def test_the_control_secret_is_secret_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMCORE_CONTROL__SECRET", "shared-key")
    settings = Settings()
    assert isinstance(settings.control.secret, SecretStr)
    assert "shared-key" not in repr(settings)
    assert settings.control.secret.get_secret_value() == "shared-key"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
