"""The local cluster's layout: node N on 127.0.0.N, one quorum, one ring, small heaps."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from streamcore.dev import DevServers, DevSettings
from streamcore.dev.cassandra import CassandraServerFiles, ring_token
from streamcore.dev.kafka import KafkaServerFiles
from streamcore.dev.servers import recorded_nodes
from streamcore.dev.toolchain import Toolchain
from streamcore.errors import DevServerError


def _settings(tmp_path: Path, **values: object) -> DevSettings:
    return DevSettings(state_dir=tmp_path, port_base=31500, **values)  # type: ignore[arg-type]


def _properties(files: KafkaServerFiles) -> dict[str, str]:
    files.write_config()
    lines = files.properties.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_one_node_stays_the_default(tmp_path: Path) -> None:
    servers = DevServers(_settings(tmp_path))
    assert servers.names == ("kafka", "cassandra")
    assert servers.settings.kafka_heap == "512M"
    props = _properties(KafkaServerFiles(servers.settings, servers.tools))
    assert props["offsets.topic.replication.factor"] == "1"
    assert "controller.quorum.voters" not in props


def test_a_cluster_has_a_server_per_node_and_kind(tmp_path: Path) -> None:
    servers = DevServers(_settings(tmp_path, nodes=3))
    assert servers.names == (
        "kafka-1",
        "kafka-2",
        "kafka-3",
        "cassandra-1",
        "cassandra-2",
        "cassandra-3",
    )
    assert servers.select(("kafka",)) == ("kafka-1", "kafka-2", "kafka-3")
    assert servers.select(("cassandra-2", "kafka-3")) == ("kafka-3", "cassandra-2")
    with pytest.raises(DevServerError, match="kafka-4"):
        servers.select(("kafka-4",))
    assert servers.kafka_settings().bootstrap_servers == (
        "127.0.0.1:31592,127.0.0.2:31592,127.0.0.3:31592"
    )
    assert servers.cassandra_settings().contact_points == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]


def test_cluster_heaps_are_small_unless_set(tmp_path: Path) -> None:
    cluster = _settings(tmp_path, nodes=3)
    assert (cluster.kafka_heap, cluster.cassandra_heap) == ("320M", "640M")
    assert _settings(tmp_path, nodes=3, cassandra_heap="1G").cassandra_heap == "1G"


def test_brokers_form_one_static_quorum_with_replicated_internal_topics(tmp_path: Path) -> None:
    settings = _settings(tmp_path, nodes=3)
    props = _properties(KafkaServerFiles(settings, Toolchain(settings), node=2))
    assert props["node.id"] == "2"
    assert props["listeners"] == "PLAINTEXT://127.0.0.2:31592,CONTROLLER://127.0.0.2:31593"
    assert props["controller.quorum.voters"] == (
        "1@127.0.0.1:31593,2@127.0.0.2:31593,3@127.0.0.3:31593"
    )
    assert "controller.quorum.bootstrap.servers" not in props
    for key in ("offsets.topic", "transaction.state.log"):
        assert props[f"{key}.replication.factor"] == "3"
    assert props["transaction.state.log.min.isr"] == "2"
    assert props["min.insync.replicas"] == "2"


def test_cassandra_nodes_share_a_seed_and_split_the_ring(tmp_path: Path) -> None:
    settings = _settings(tmp_path, nodes=3)
    configs = []
    for node in (1, 2, 3):
        files = CassandraServerFiles(settings, Toolchain(settings), node=node)
        files.write_config()
        configs.append(yaml.safe_load(files.yaml.read_text()))
    assert [c["listen_address"] for c in configs] == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert {c["seed_provider"][0]["parameters"][0]["seeds"] for c in configs} == {"127.0.0.1:31570"}
    tokens = [int(c["initial_token"]) for c in configs]
    assert tokens == sorted(tokens) and len(set(tokens)) == 3
    assert all(c["auto_bootstrap"] is False for c in configs)
    assert ring_token(1, 3) == -(2**63)
    assert ring_token(2, 3) - ring_token(1, 3) == ring_token(3, 3) - ring_token(2, 3)


def test_cassandra_acknowledges_a_write_once_its_commit_log_entry_is_synced(
    tmp_path: Path,
) -> None:
    def commit_log(**values: object) -> dict[str, object]:
        settings = _settings(tmp_path, **values)
        files = CassandraServerFiles(settings, Toolchain(settings))
        files.write_config()
        config = yaml.safe_load(files.yaml.read_text())
        return {k: v for k, v in config.items() if k.startswith("commitlog_sync")}

    # The sync period belongs to periodic mode only (batch mode with one is refused).
    assert commit_log() == {"commitlog_sync": "batch"}
    assert commit_log(cassandra_commitlog_sync="periodic") == {
        "commitlog_sync": "periodic",
        "commitlog_sync_period": "10000ms",
    }


def test_each_cassandra_node_has_its_own_jmx_port(tmp_path: Path) -> None:
    settings = _settings(tmp_path, nodes=3)
    ports = {settings.cassandra_jmx_port_of(node) for node in (1, 2, 3)}
    assert ports == {31571, 31572, 31573}


def test_the_layout_last_started_is_what_the_other_commands_mean(tmp_path: Path) -> None:
    assert recorded_nodes(_settings(tmp_path)) == 1
    (tmp_path / "nodes").write_text("3\n")
    assert recorded_nodes(_settings(tmp_path)) == 3
