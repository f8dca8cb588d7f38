"""A user's Kafka and Cassandra options win over streamcore's defaults, in every client; only
what the guarantees rest on stays streamcore's."""

from __future__ import annotations

from streamcore.kafka.clients import make_producer
from streamcore.kafka.consumer import BatchConsumer
from streamcore.kafka.options import layered
from streamcore.settings import KafkaSettings

USER = {"linger.ms": "123", "compression.type": "zstd", "fetch.wait.max.ms": "7"}


def test_layers_put_the_user_over_defaults_and_requirements_over_the_user() -> None:
    config = layered({"linger.ms": 5, "acks": "all"}, {"linger.ms": "50"}, {"group.id": "g"})
    assert config == {"linger.ms": "50", "acks": "all", "group.id": "g"}
    assert layered({}, {"group.id": "user"}, {"group.id": "ours"})["group.id"] == "ours"


def test_the_users_options_win_in_the_producer_even_over_a_uses_own_default() -> None:
    settings = KafkaSettings(client_options=USER)
    producer = make_producer(settings, lambda _report: None, **{"linger.ms": 0})
    assert producer.config["linger.ms"] == "123"
    assert producer.config["compression.type"] == "zstd"
    assert producer.config["enable.idempotence"] is True  # a default the user left alone


def test_the_users_options_win_in_consumers_but_not_over_offset_handling() -> None:
    user = {**USER, "enable.auto.commit": "true", "session.timeout.ms": "9000"}
    client = KafkaSettings(client_options=user).client_config()
    consumer = BatchConsumer(client, "group", ["t"], options={"session.timeout.ms": 45000})
    config = consumer._config
    assert config["fetch.wait.max.ms"] == "7"
    assert config["session.timeout.ms"] == "9000"
    assert config["enable.auto.commit"] is False
    assert config["isolation.level"] == "read_committed"
    assert config["group.id"] == "group"


def test_the_users_cassandra_options_win_over_streamcores_defaults() -> None:
    from cassandra.cluster import EXEC_PROFILE_DEFAULT

    from streamcore.settings import CassandraSettings
    from streamcore.state.session import cluster_options

    default = cluster_options(CassandraSettings(), 5.0, 30.0)
    assert (default["connect_timeout"], default["protocol_version"]) == (5.0, 4)
    user = CassandraSettings(
        connect_timeout_seconds=12, request_timeout_seconds=90, protocol_version=5
    )
    options = cluster_options(user, 5.0, 30.0)
    assert (options["connect_timeout"], options["protocol_version"]) == (12, 5)
    assert options["execution_profiles"][EXEC_PROFILE_DEFAULT].request_timeout == 90
