"""Apache Kafka 4.x as one combined KRaft broker+controller on 127.0.0.1."""

from __future__ import annotations

import base64
import subprocess
import uuid
from pathlib import Path

from streamcore.dev.jars import classpath_dir
from streamcore.dev.layout import DevSettings
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


class KafkaServerFiles:
    """Classpath, configuration and storage of the dev broker."""

    name = "kafka"

    def __init__(self, settings: DevSettings) -> None:
        self.settings = settings
        self.directory = settings.server_dir(self.name)
        self.data_dir = self.directory / "data"
        self.properties = self.directory / "server.properties"
        self.log4j = self.directory / "log4j2.properties"

    def classpath(self) -> Path:
        s = self.settings
        return classpath_dir(
            s.cache_dir,
            self.name,
            [
                f"org.apache.kafka:kafka_2.13:{s.kafka_version}",
                # Kafka logs through slf4j 1.x; without a binding and a config it is silent.
                f"org.apache.logging.log4j:log4j-slf4j-impl:{s.log4j_version}",
                f"org.apache.logging.log4j:log4j-core:{s.log4j_version}",
            ],
            s.mvn,
        )

    def write_config(self) -> None:
        s = self.settings
        self.directory.mkdir(parents=True, exist_ok=True)
        broker = f"127.0.0.1:{s.kafka_port}"
        controller = f"127.0.0.1:{s.kafka_controller_port}"
        properties = {
            "process.roles": "broker,controller",
            "node.id": "1",
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
        self.properties.write_text("".join(f"{k}={v}\n" for k, v in properties.items()))
        self.log4j.write_text(_LOG4J2)

    def format_storage(self, classpath: Path) -> None:
        """Format the KRaft log directory once; a formatted directory is kept as is."""
        if (self.data_dir / "meta.properties").exists():
            return
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        result = subprocess.run(
            [
                self.settings.java,
                "-cp",
                f"{classpath}/*",
                f"-Dlog4j2.configurationFile={self.log4j}",
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(self.properties),
                "--standalone",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise DevServerError(
                f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}"
            )

    def command(self, classpath: Path) -> list[str]:
        heap = self.settings.kafka_heap
        return [
            self.settings.java,
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
