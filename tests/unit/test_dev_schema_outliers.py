"""Which Cassandra nodes the cluster suite restarts when its ring disagrees on the schema."""

from __future__ import annotations

from streamcore.dev.servers import schema_outliers


def test_the_node_holding_the_minority_schema_is_the_outlier() -> None:
    versions = {"cassandra-1": "d037", "cassandra-2": "4f3c", "cassandra-3": "d037"}
    assert schema_outliers(versions) == ["cassandra-2"]


def test_a_node_not_answering_is_an_outlier() -> None:
    versions = {"cassandra-1": "d037", "cassandra-2": None, "cassandra-3": "d037"}
    assert schema_outliers(versions) == ["cassandra-2"]


def test_an_agreeing_ring_has_no_outlier() -> None:
    assert schema_outliers({"cassandra-1": "a", "cassandra-2": "a", "cassandra-3": "a"}) == []


def test_three_versions_keep_the_first_node_and_restart_the_others() -> None:
    versions = {"cassandra-1": "a", "cassandra-2": "b", "cassandra-3": "c"}
    assert schema_outliers(versions) == ["cassandra-2", "cassandra-3"]


def test_no_node_answering_makes_every_node_an_outlier() -> None:
    versions: dict[str, str | None] = {"cassandra-1": None, "cassandra-2": None}
    assert schema_outliers(versions) == ["cassandra-1", "cassandra-2"]
