"""Apache Kafka 4.x as one combined KRaft broker+controller on 127.0.0.1.

In a local cluster (``DevSettings.nodes`` > 1) node N is ``kafka-N`` on 127.0.0.N, every
node a broker and a voter of a static controller quorum (``controller.quorum.voters``),
all formatted with one cluster id; the internal topics get replication 3 (at most the node
count) and ``min.insync.replicas`` 2, so one broker can be lost without stopping writes.

Secure (``DevSettings.secure``): one more listener, ``SASL_SSL`` on ``kafka_secure_port``,
TLS from the dev CA (``streamcore.dev.tls``) and SCRAM-SHA-512 with one user created when
the storage is formatted (``--add-scram``). Inter-broker and controller traffic stay on
the plaintext loopback listeners; clients (and the readiness probe) use the secure one.
"""

from __future__ import annotations

import base64
import subprocess
import uuid
from pathlib import Path

from streamcore.dev.jars import classpath_dir
from streamcore.dev.layout import DevSettings
from streamcore.dev.tls import KEYSTORE_PASSWORD, DevTlsFiles
from streamcore.dev.toolchain import Toolchain
from streamcore.errors import DevServerError

_LOG4J2 = """appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.clients.name = org.apache.kafka
logger.clients.level = WARN
"""


def new_cluster_id() -> str:
    """A KRaft cluster id as Kafka's own Uuid.randomUuid makes one.

    Base64url of a random UUID; like Kafka, redraw one that starts with "-", which the
    storage tool's argument parser would take for an option (one CI run in 64 failed so).
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class KafkaServerFiles:
    """Classpath, configuration and storage of the dev broker."""

    def __init__(self, settings: DevSettings, tools: Toolchain, node: int | None = None) -> None:
        """``node``: this node's number in a local cluster; None for the single broker."""
        self.settings = settings
        self.tools = tools
        self.node = node
        self.name = "kafka" if node is None else f"kafka-{node}"
        self.host = settings.host(node)
        self.directory = settings.server_dir(self.name)
        self.data_dir = self.directory / "data"
        self.properties = self.directory / "server.properties"
        self.log4j = self.directory / "log4j2.properties"
        self.tls = DevTlsFiles(settings.state_dir.resolve() / "tls")

    def classpath(self) -> Path:
        s = self.settings
        return classpath_dir(
            s.cache_dir,
            "kafka",  # one jar cache for every node
            [
                f"org.apache.kafka:kafka_2.13:{s.kafka_version}",
                # Kafka logs through slf4j 1.x; without a binding and a config it is silent.
                f"org.apache.logging.log4j:log4j-slf4j-impl:{s.log4j_version}",
                f"org.apache.logging.log4j:log4j-core:{s.log4j_version}",
            ],
            self.tools,
        )

    def write_config(self) -> None:
        s = self.settings
        self.directory.mkdir(parents=True, exist_ok=True)
        broker = f"{self.host}:{s.kafka_port}"
        controller = f"{self.host}:{s.kafka_controller_port}"
        properties = {
            "process.roles": "broker,controller",
            "node.id": str(self.node or 1),
            "controller.quorum.bootstrap.servers": controller,
            "listeners": f"PLAINTEXT://{broker},CONTROLLER://{controller}",
            "advertised.listeners": f"PLAINTEXT://{broker}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "1",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "num.network.threads": "2",
            "num.io.threads": "4",
            "log.retention.hours": "24",
            "delete.topic.enable": "true",
        }
        if self.node is not None:
            del properties["controller.quorum.bootstrap.servers"]  # the voters are static
            properties.update(self._cluster_properties())
        if s.secure:
            properties.update(self._secure_properties())
        self.properties.write_text("".join(f"{k}={v}\n" for k, v in properties.items()))
        self.log4j.write_text(_LOG4J2)

    def _cluster_properties(self) -> dict[str, str]:
        s = self.settings
        voters = ",".join(
            f"{n}@{s.host(n)}:{s.kafka_controller_port}" for n in range(1, s.nodes + 1)
        )
        replicas = str(min(3, s.nodes))
        in_sync = str(min(2, s.nodes))
        return {
            "controller.quorum.voters": voters,
            "default.replication.factor": replicas,
            "min.insync.replicas": in_sync,
            "offsets.topic.replication.factor": replicas,
            "transaction.state.log.replication.factor": replicas,
            "transaction.state.log.min.isr": in_sync,
            "share.coordinator.state.topic.replication.factor": replicas,
            "share.coordinator.state.topic.min.isr": in_sync,
        }

    def _secure_properties(self) -> dict[str, str]:
        s = self.settings
        self.tls.ensure()
        host = self.host
        secure = f"SASL_SSL://{host}:{s.kafka_secure_port}"
        prefix = "listener.name.sasl_ssl."
        return {
            "listeners": f"PLAINTEXT://{host}:{s.kafka_port},{secure},"
            f"CONTROLLER://{host}:{s.kafka_controller_port}",
            "advertised.listeners": f"PLAINTEXT://{host}:{s.kafka_port},{secure}",
            "listener.security.protocol.map": (
                "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL"
            ),
            "sasl.enabled.mechanisms": "SCRAM-SHA-512",
            f"{prefix}scram-sha-512.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            ),
            f"{prefix}ssl.keystore.type": "PKCS12",
            f"{prefix}ssl.keystore.location": str(self.tls.keystore),
            f"{prefix}ssl.keystore.password": KEYSTORE_PASSWORD,
            f"{prefix}ssl.key.password": KEYSTORE_PASSWORD,
        }

    def formatted_cluster_id(self) -> str | None:
        """The cluster id this node's storage was formatted with, if it was."""
        try:
            text = (self.data_dir / "meta.properties").read_text()
        except FileNotFoundError:
            return None
        for line in text.splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "cluster.id":
                return value.strip()
        return None

    def format_storage(self, classpath: Path, cluster_id: str | None = None) -> None:
        """Format the KRaft log directory once; a formatted directory is kept as is.

        ``cluster_id``: the one every node of a cluster shares (a fresh one by default);
        a cluster node joins the static quorum, the single node starts its own
        (``--standalone``).
        """
        if (self.data_dir / "meta.properties").exists():
            return
        cluster_id = cluster_id or new_cluster_id()
        result = subprocess.run(
            [
                self.tools.java,
                "-cp",
                f"{classpath}/*",
                f"-Dlog4j2.configurationFile={self.log4j}",
                "kafka.tools.StorageTool",
                "format",
                f"--cluster-id={cluster_id}",
                "-c",
                str(self.properties),
                *(["--standalone"] if self.node is None else []),
                *self._scram_users(),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise DevServerError(
                f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}"
            )

    def _scram_users(self) -> list[str]:
        s = self.settings
        if not s.secure:
            return []
        password = s.kafka_password.get_secret_value()
        return ["--add-scram", f"SCRAM-SHA-512=[name={s.kafka_user},password={password}]"]

    def command(self, classpath: Path) -> list[str]:
        heap = self.settings.kafka_heap
        return [
            self.tools.java,
            f"-Xms{heap}",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.log4j}",
            "-cp",
            f"{classpath}/*",
            "kafka.Kafka",
            str(self.properties),
        ]
