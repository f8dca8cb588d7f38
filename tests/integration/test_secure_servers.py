"""Kafka over SASL_SSL (SCRAM-SHA-512) and Cassandra with password + TLS, on real servers.

The secure pair (``streamcore dev up --secure``: its own ports and state, so the shared dev
servers are never reconfigured) is started once for this module when it is not running,
and stopped afterwards if this module started it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cassandra.cluster import NoHostAvailable
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic
from pydantic import SecretStr
from support import IN_CI

from streamcore.dev import DevServers
from streamcore.dev.layout import SecureDevSettings
from streamcore.dev.tls import DevTlsFiles
from streamcore.errors import DevServerError
from streamcore.kafka.clients import DeliveryReport, make_admin, make_producer
from streamcore.kafka.reader import TopicReader
from streamcore.settings import KafkaSettings
from streamcore.state.session import open_session


@pytest.fixture(scope="module")
def secure() -> Iterator[DevServers]:
    servers = DevServers(SecureDevSettings())
    try:
        statuses = servers.up(timeout=300)
    except DevServerError as exc:
        if IN_CI:
            pytest.fail(f"secure dev servers unavailable under CI: {exc}")
        pytest.skip(f"secure dev servers unavailable: {exc}")
    yield servers
    started = tuple(s.name for s in statuses if s.started_here)
    if started:
        servers.down(started)


def test_a_round_trip_over_sasl_ssl_with_scram(secure: DevServers) -> None:
    settings = secure.kafka_settings()
    assert settings.security_protocol == "SASL_SSL"
    topic = f"t-{uuid.uuid4().hex[:12]}.secure"
    admin = make_admin(settings)
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
    try:
        reports: list[DeliveryReport] = []
        producer = make_producer(settings, reports.append)
        for i in range(5):
            producer.produce(topic, f"k{i}".encode(), f"v{i}".encode())
        assert producer.flush(30) == 0
        assert [r.error for r in reports] == [None] * 5

        reader = TopicReader(settings.client_config(), topic)
        try:
            records = reader.read_to(reader.end_offsets())
        finally:
            reader.close()
        assert [r.value for r in records] == [f"v{i}".encode() for i in range(5)]
    finally:
        admin.delete_topics([topic])[topic].result(30)


def test_a_wrong_kafka_password_fails_with_an_authentication_error(secure: DevServers) -> None:
    """librdkafka raises a transport failure; the reason comes through its error callback."""
    wrong = secure.kafka_settings().model_copy(update={"sasl_password": SecretStr("not-it")})
    errors: list[KafkaError] = []
    admin = AdminClient(
        {**wrong.client_config(), "error_cb": errors.append, "logger": logging.getLogger("rd")}
    )
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=10)
    for _ in range(20):  # callbacks are served by poll()
        if errors:
            break
        admin.poll(0.5)
    assert errors, "no error reported"
    assert errors[0].code() == KafkaError._AUTHENTICATION
    assert "invalid credentials" in errors[0].str()


def test_plaintext_is_not_accepted_on_the_secure_listener(secure: DevServers) -> None:
    plain = KafkaSettings(bootstrap_servers=secure.kafka_settings().bootstrap_servers)
    with pytest.raises(KafkaException):
        make_admin(plain).list_topics(timeout=5)


def test_open_session_with_password_and_tls(secure: DevServers) -> None:
    settings = secure.cassandra_settings()
    assert settings.ssl_enabled and settings.ssl_check_hostname and settings.username
    session = open_session(settings)
    try:
        row = session.execute("SELECT release_version FROM system.local").one()
        assert row.release_version.startswith("5.")
        assert session.cluster.ssl_context is not None
    finally:
        session.cluster.shutdown()


def test_a_wrong_cassandra_password_fails_clearly(secure: DevServers) -> None:
    wrong = secure.cassandra_settings().model_copy(update={"password": SecretStr("not-it")})
    with pytest.raises(NoHostAvailable, match="Bad credentials"):
        open_session(wrong, connect_timeout=10)


def test_cassandra_refuses_a_client_without_tls(secure: DevServers) -> None:
    no_tls = secure.cassandra_settings().model_copy(
        update={"ssl_enabled": False, "ssl_ca_file": None}
    )
    with pytest.raises(NoHostAvailable):
        open_session(no_tls, connect_timeout=5)


def test_a_server_certificate_from_another_ca_is_refused(
    secure: DevServers, tmp_path: Path
) -> None:
    other_ca = DevTlsFiles(tmp_path).ensure().ca
    untrusting = secure.cassandra_settings().model_copy(update={"ssl_ca_file": str(other_ca)})
    with pytest.raises(NoHostAvailable, match="(?i)certificate"):
        open_session(untrusting, connect_timeout=5)
    # The same with hostname checks off: the chain is still verified.
    unchecked = untrusting.model_copy(update={"ssl_check_hostname": False})
    with pytest.raises(NoHostAvailable, match="(?i)certificate"):
        open_session(unchecked, connect_timeout=5)
