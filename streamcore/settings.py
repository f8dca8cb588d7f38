"""Process settings: where the servers are and how to reach them.

Read once from the environment (``STREAMCORE_`` prefix, ``__`` between nested keys, e.g.
``STREAMCORE_KAFKA__BOOTSTRAP_SERVERS``). Defaults point at the local servers that
``streamcore dev up`` starts, so a quick start needs no configuration at all.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from streamcore.limits import KAFKA_MAX_MESSAGE_BYTES, Limits

DEV_KAFKA_PORT = 19092
DEV_CASSANDRA_PORT = 19042


class KafkaSettings(BaseModel):
    """Connection to the Kafka cluster, including SASL/SSL."""

    bootstrap_servers: str = f"127.0.0.1:{DEV_KAFKA_PORT}"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: str | None = None
    ssl_certificate_location: str | None = None
    ssl_key_location: str | None = None
    ssl_key_password: SecretStr | None = None
    client_options: dict[str, str] = Field(
        default_factory=dict, description="Extra librdkafka options, passed through verbatim."
    )

    def client_config(self) -> dict[str, str | int | float | bool]:
        """The librdkafka options every client of the application shares."""
        config: dict[str, str | int | float | bool] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
        }
        optional: dict[str, str | SecretStr | None] = {
            "sasl.mechanism": self.sasl_mechanism,
            "sasl.username": self.sasl_username,
            "sasl.password": self.sasl_password,
            "ssl.ca.location": self.ssl_ca_location,
            "ssl.certificate.location": self.ssl_certificate_location,
            "ssl.key.location": self.ssl_key_location,
            "ssl.key.password": self.ssl_key_password,
        }
        for key, value in optional.items():
            if value is not None:
                config[key] = value.get_secret_value() if isinstance(value, SecretStr) else value
        config.update(self.client_options)
        return config


class TopicSettings(BaseModel):
    """Topic names and sizes. Names default to ``<app_name>.<role>``."""

    input: str | None = None
    control: str | None = None
    control_acks: str | None = None
    dead_letter: str | None = None
    snapshots: str | None = None
    snapshot_tasks: str | None = None
    partitions: int = Field(default=6, ge=1)
    replication_factor: int = Field(default=1, ge=1)

    def name(self, role: str, app_name: str) -> str:
        """The topic of ``role`` (input, control, ...) for the application ``app_name``."""
        configured: str | None = getattr(self, role)
        return configured or f"{app_name}.{role.replace('_', '-')}"


class CassandraSettings(BaseModel):
    """Connection to the Cassandra cluster and the keyspace the application owns."""

    contact_points: list[str] = Field(default_factory=lambda: ["127.0.0.1"])
    port: int = DEV_CASSANDRA_PORT
    keyspace: str = "streamcore"
    username: str | None = None
    password: SecretStr | None = None
    local_dc: str | None = None
    replication_factor: int = Field(default=1, ge=1)


class MetricsSettings(BaseModel):
    """The HTTP endpoint serving ``/metrics`` and health; port 0 turns it off."""

    host: str = "0.0.0.0"
    port: int = Field(default=9100, ge=0, le=65535)
    liveness_seconds: float = Field(
        default=120.0,
        gt=0,
        description="/healthz fails when the process loop has not beaten for this long.",
    )


class ControlSettings(BaseModel):
    """How replicas take part in the control protocol (see ``streamcore.control``)."""

    heartbeat_seconds: float = Field(
        default=5.0, gt=0, description="Every replica announces itself this often."
    )
    live_heartbeats: int = Field(
        default=3, ge=1, description="A replica silent for this many heartbeats is not live."
    )


class SnapshotSettings(BaseModel):
    """How snapshot workers split a run and bound linked components."""

    tasks_per_run: int = Field(
        default=64, ge=1, description="Token ranges a run is split into (its unit of work)."
    )
    page_size: int = Field(default=2000, ge=1, description="Entities snapshotted together.")
    max_component: int = Field(
        default=10_000, ge=1, description="Linked entities loaded per component at most."
    )
    consumer_group: str | None = Field(
        default=None, description="Consumer group; defaults to <app_name>.snapshots."
    )
    trigger_grace_seconds: float = Field(
        default=60.0, gt=0, description="A schedule slot older than this is not started."
    )


class WorkerSettings(BaseModel):
    """How an ingestion worker batches and caches."""

    batch_size: int = Field(
        default=5000,
        ge=1,
        description="Records per batch at most (one Cassandra write and one transaction each).",
    )
    cache_entities: int = Field(
        default=100_000, ge=0, description="Entity records kept between batches (0: none)."
    )
    consumer_group: str | None = Field(
        default=None, description="Consumer group; defaults to <app_name>.ingest."
    )
    transaction_timeout_ms: int = Field(
        default=15_000,
        ge=1000,
        description="A dead worker's open transaction blocks its partitions this long at most.",
    )


class LimitsSettings(BaseModel):
    """Bounds on untrusted input, enforced alike by the producer SDK, ``streamcore produce``
    and the ingestion worker (``streamcore.limits.TaskValidator``)."""

    max_value_bytes: int = Field(
        default=65_536,
        ge=1,
        description="Stored JSON of one value (or a data-point's src) at most, in bytes.",
    )
    max_elements: int = Field(
        default=10_000,
        ge=1,
        description="Items of one array/set/dict/json value or timeseries series at most "
        "(also TTL tokens and tags of a task).",
    )
    max_data_points: int = Field(default=10_000, ge=1, description="Data-points per task.")
    max_message_bytes: int = Field(
        default=900_000,
        ge=1,
        le=KAFKA_MAX_MESSAGE_BYTES,
        description="One encoded task at most; below Kafka's 1 MB default message.max.bytes.",
    )

    def limits(self) -> Limits:
        return Limits(**self.model_dump())


class Settings(BaseSettings):
    """Everything a streamcore process needs to reach its servers."""

    model_config = SettingsConfigDict(
        env_prefix="STREAMCORE_", env_nested_delimiter="__", extra="ignore"
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    cassandra: CassandraSettings = Field(default_factory=CassandraSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    snapshots: SnapshotSettings = Field(default_factory=SnapshotSettings)
    control: ControlSettings = Field(default_factory=ControlSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    dp3_compat: bool = Field(
        default=False,
        description="Let unchanged DP³ modules (importing dp3.common.*) load and run.",
    )
