"""The application's settings for a replicated cluster; the one-node defaults unchanged."""

from __future__ import annotations

import pytest
from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT
from cassandra.policies import (
    DCAwareRoundRobinPolicy,
    DowngradingConsistencyRetryPolicy,
    RetryPolicy,
    TokenAwarePolicy,
)
from pydantic import ValidationError

from streamcore.kafka.topics import planned_topics
from streamcore.settings import CassandraSettings, TopicSettings
from streamcore.state.schema import keyspace_ddl
from streamcore.state.session import cluster_options


def test_the_default_keyspace_is_simple_with_one_replica() -> None:
    settings = CassandraSettings()
    ddl = keyspace_ddl("ks", settings.replication_factor, settings.keyspace_datacenter())
    assert "'class': 'SimpleStrategy', 'replication_factor': 1" in ddl


def test_network_topology_replicates_in_the_local_datacenter() -> None:
    settings = CassandraSettings(
        local_dc="dc-east", replication_factor=3, replication_strategy="NetworkTopologyStrategy"
    )
    ddl = keyspace_ddl("ks", settings.replication_factor, settings.keyspace_datacenter())
    assert ddl.endswith("{'class': 'NetworkTopologyStrategy', 'dc-east': 3}")


def test_network_topology_needs_a_datacenter() -> None:
    with pytest.raises(ValidationError, match="needs local_dc"):
        CassandraSettings(replication_strategy="NetworkTopologyStrategy")


def test_topics_get_min_insync_replicas_when_set() -> None:
    plain = planned_topics(TopicSettings(), "app")
    assert all("min.insync.replicas" not in (t.config or {}) for t in plain.values())
    replicated = planned_topics(
        TopicSettings(replication_factor=3, min_insync_replicas=2), "app"
    ).values()
    assert {t.replication_factor for t in replicated} == {3}
    assert {(t.config or {})["min.insync.replicas"] for t in replicated} == {"2"}
    # The role's own configuration is kept beside it.
    control = next(t for t in replicated if t.topic == "app.control")
    assert (control.config or {})["retention.ms"] == "-1"


def test_min_insync_replicas_above_the_replication_factor_is_refused() -> None:
    with pytest.raises(ValidationError, match="exceeds"):
        TopicSettings(replication_factor=1, min_insync_replicas=2)


def test_the_driver_defaults_to_majority_and_never_downgrades() -> None:
    options = cluster_options(CassandraSettings(local_dc="dc1"), 5.0, 30.0)
    profile = options["execution_profiles"][EXEC_PROFILE_DEFAULT]
    assert profile.consistency_level == ConsistencyLevel.LOCAL_QUORUM
    assert profile.serial_consistency_level == ConsistencyLevel.LOCAL_SERIAL
    assert type(profile.retry_policy) is RetryPolicy
    assert not isinstance(profile.retry_policy, DowngradingConsistencyRetryPolicy)
    assert isinstance(profile.load_balancing_policy, TokenAwarePolicy)
    assert isinstance(profile.load_balancing_policy._child_policy, DCAwareRoundRobinPolicy)
