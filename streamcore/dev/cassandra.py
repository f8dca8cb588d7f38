"""Apache Cassandra 5.0 as a single node on 127.0.0.1, sized for a small machine.

Secure (``DevSettings.secure``): ``PasswordAuthenticator`` (the default superuser
``cassandra``/``cassandra``, created at once rather than after the usual 10 s delay) and
client TLS required on the native port, with the dev CA's keystore (``streamcore.dev.tls``).

In a local cluster (``DevSettings.nodes`` > 1) node N is ``cassandra-N`` on 127.0.0.N (the
same ports on each address, but its own JMX port: local JMX binds 127.0.0.1), node 1 the
seed. A brand-new ring needs no streaming, so every node gets an evenly spaced token
(``initial_token``) and ``auto_bootstrap: false``: after the seed is up the others join
together in seconds instead of one by one after a 30 s ring delay each.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from streamcore.dev.jars import classpath_dir
from streamcore.dev.layout import DevSettings
from streamcore.dev.tls import KEYSTORE_PASSWORD, DevTlsFiles
from streamcore.dev.toolchain import Toolchain
from streamcore.errors import DevServerError

_LOGBACK = """<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
"""

# From apache/cassandra conf/jvm17-server.options: what Cassandra 5.0 needs opened on JDK 17.
_JDK17_FLAGS = [
    *(
        f"--add-exports={target}=ALL-UNNAMED"
        for target in (
            "java.base/jdk.internal.misc",
            "java.base/jdk.internal.ref",
            "java.base/sun.nio.ch",
            "java.management.rmi/com.sun.jmx.remote.internal.rmi",
            "java.rmi/sun.rmi.registry",
            "java.rmi/sun.rmi.server",
            "java.sql/java.sql",
            "java.base/java.lang.ref",
            "jdk.unsupported/sun.misc",
        )
    ),
    *(
        f"--add-opens={target}=ALL-UNNAMED"
        for target in (
            "java.base/java.lang.module",
            "java.base/jdk.internal.loader",
            "java.base/jdk.internal.ref",
            "java.base/jdk.internal.reflect",
            "java.base/jdk.internal.math",
            "java.base/jdk.internal.module",
            "java.base/jdk.internal.util.jar",
            "jdk.management/com.sun.management.internal",
            "java.base/sun.nio.ch",
            "java.base/java.io",
            "java.base/java.nio",
            "java.base/java.util.concurrent",
            "java.base/java.util",
            "java.base/java.util.concurrent.atomic",
            "java.base/java.lang",
            "java.base/java.math",
            "java.base/java.lang.reflect",
            "java.base/java.net",
        )
    ),
]


class CassandraServerFiles:
    """Classpath, configuration and storage of the dev Cassandra node."""

    def __init__(self, settings: DevSettings, tools: Toolchain, node: int | None = None) -> None:
        """``node``: this node's number in a local cluster; None for the single node."""
        self.settings = settings
        self.tools = tools
        self.node = node
        self.name = "cassandra" if node is None else f"cassandra-{node}"
        self.host = settings.host(node)
        self.directory = settings.server_dir(self.name)
        self.data_dir = self.directory / "data"
        self.yaml = self.directory / "cassandra.yaml"
        self.conf_dir = self.directory / "conf"
        self.tls = DevTlsFiles(settings.state_dir.resolve() / "tls")

    def classpath(self) -> Path:
        s = self.settings
        return classpath_dir(
            s.cache_dir,
            "cassandra",  # one jar cache for every node
            [f"org.apache.cassandra:cassandra-all:{s.cassandra_version}"],
            self.tools,
        )

    def write_config(self) -> None:
        s = self.settings
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        data = self.data_dir
        config = {
            "cluster_name": "streamcore-dev",
            # One token and no auto snapshots keep a single-node start and DROP fast.
            "num_tokens": 1,
            "partitioner": "org.apache.cassandra.dht.Murmur3Partitioner",
            "listen_address": self.host,
            "rpc_address": self.host,
            "storage_port": s.cassandra_storage_port,
            "native_transport_port": s.cassandra_port,
            "start_native_transport": True,
            "seed_provider": [
                {
                    "class_name": "org.apache.cassandra.locator.SimpleSeedProvider",
                    "parameters": [{"seeds": f"{s.host(1)}:{s.cassandra_storage_port}"}],
                }
            ],
            "endpoint_snitch": "SimpleSnitch",
            "commitlog_sync": s.cassandra_commitlog_sync,
            "data_file_directories": [str(data / "data")],
            "commitlog_directory": str(data / "commitlog"),
            "saved_caches_directory": str(data / "saved_caches"),
            "hints_directory": str(data / "hints"),
            "cdc_raw_directory": str(data / "cdc_raw"),
            "auto_snapshot": False,
            "concurrent_reads": 8,
            "concurrent_writes": 16,
            "concurrent_compactors": 1,
            # A busy entity's batch (one partition) may be large; that is fine here.
            "batch_size_warn_threshold": "64KiB",
            "batch_size_fail_threshold": "1MiB",
            "unlogged_batch_across_partitions_warn_threshold": 100,
        }
        if s.cassandra_commitlog_sync == "periodic":
            config["commitlog_sync_period"] = "10000ms"
        if self.node is not None:
            config.update(
                {
                    "initial_token": str(ring_token(self.node, s.nodes)),
                    "auto_bootstrap": False,
                }
            )
        if s.secure:
            self.tls.ensure()
            config.update(
                {
                    "authenticator": "PasswordAuthenticator",
                    "role_manager": "CassandraRoleManager",
                    "authorizer": "AllowAllAuthorizer",
                    "client_encryption_options": {
                        "enabled": True,
                        "optional": False,
                        "keystore": str(self.tls.keystore),
                        "keystore_password": KEYSTORE_PASSWORD,
                        "store_type": "PKCS12",
                        "require_client_auth": False,
                    },
                }
            )
        self.yaml.write_text(yaml.safe_dump(config, sort_keys=False))
        (self.conf_dir / "logback.xml").write_text(_LOGBACK)

    def command(self, classpath: Path) -> list[str]:
        jamm = sorted(classpath.glob("jamm-*.jar"))
        if not jamm:
            raise DevServerError(f"no jamm agent jar in {classpath}")
        heap = self.settings.cassandra_heap
        return [
            self.tools.java,
            f"-Xms{heap}",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-Xss512k",
            "-XX:+HeapDumpOnOutOfMemoryError",
            f"-XX:HeapDumpPath={self.directory}",
            f"-javaagent:{jamm[0]}",
            "-Djdk.attach.allowAttachSelf=true",
            *_JDK17_FLAGS,
            f"-Dcassandra.config=file://{self.yaml}",
            "-Dcassandra-foreground=yes",
            f"-Dcassandra.storagedir={self.data_dir}",
            f"-Dcassandra.logdir={self.directory}",
            "-Dcassandra.skip_wait_for_gossip_to_settle=0",
            *(["-Dcassandra.superuser_setup_delay_ms=0"] if self.settings.secure else []),
            f"-Dcassandra.jmx.local.port={self.settings.cassandra_jmx_port_of(self.node)}",
            f"-Dlogback.configurationFile={self.conf_dir / 'logback.xml'}",
            "-cp",
            f"{self.conf_dir}:{classpath}/*",
            "org.apache.cassandra.service.CassandraDaemon",
        ]


def ring_token(node: int, nodes: int) -> int:
    """Node ``node`` (1-based) of ``nodes``: Murmur3 tokens evenly spaced over the ring."""
    return -(2**63) + (node - 1) * (2**64 // nodes)
