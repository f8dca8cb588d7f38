"""Process settings: where the servers are and how to reach them.

Read once from the environment (``STREAMCORE_`` prefix, ``__`` between nested keys, e.g.
``STREAMCORE_KAFKA__BOOTSTRAP_SERVERS``). Defaults point at the local servers that
``streamcore dev up`` starts, so a quick start needs no configuration at all.
"""

from __future__ import annotations

import os
import re
import zlib
from dataclasses import dataclass
from typing import Literal, Self

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_KAFKA_PORT = 19092
DEV_CASSANDRA_PORT = 19042
DEV_PORT_BASE_ENV = "STREAMCORE_DEV_PORT_BASE"
"""One variable that moves every dev server port (``streamcore.dev.layout``) and the
defaults below that point at them."""
DEV_KAFKA_OFFSET = 92
DEV_CASSANDRA_OFFSET = 42
DEV_REGISTRY_PORT = 19081
DEV_REGISTRY_OFFSET = 81


def dev_port(offset: int, default: int) -> int:
    """A dev server's port: ``STREAMCORE_DEV_PORT_BASE`` + ``offset`` when that is set."""
    base = os.environ.get(DEV_PORT_BASE_ENV)
    return int(base) + offset if base else default


SECRET_OPTION_MARKERS = ("password", "secret", "sasl.oauthbearer.config", "ssl.key.pem")
"""A ``kafka.client_options`` key containing one of these holds a secret (kept as SecretStr)."""


class KafkaSettings(BaseModel):
    """Connection to the Kafka cluster, including SASL/SSL."""

    bootstrap_servers: str = Field(
        default_factory=lambda: f"127.0.0.1:{dev_port(DEV_KAFKA_OFFSET, DEV_KAFKA_PORT)}"
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: str | None = None
    ssl_certificate_location: str | None = None
    ssl_key_location: str | None = None
    ssl_key_password: SecretStr | None = None
    client_options: dict[str, str | SecretStr] = Field(
        default_factory=dict,
        description="Extra librdkafka options, passed through verbatim; the values of keys "
        "naming a secret (password, secret, sasl.oauthbearer.config, ssl.key.pem) are SecretStr.",
    )

    @field_validator("client_options")
    @classmethod
    def _hide_secret_options(
        cls, options: dict[str, str | SecretStr]
    ) -> dict[str, str | SecretStr]:
        """So a password given as a raw librdkafka option never shows in a repr or a log."""
        return {
            key: SecretStr(value)
            if isinstance(value, str) and any(m in key.lower() for m in SECRET_OPTION_MARKERS)
            else value
            for key, value in options.items()
        }

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
        for key, value in self.client_options.items():
            config[key] = value.get_secret_value() if isinstance(value, SecretStr) else value
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
    min_insync_replicas: int | None = Field(
        default=None,
        ge=1,
        description="min.insync.replicas of every topic created (unset: the broker's "
        "default); with acks=all a write needs this many replicas, so on a cluster with "
        "replication 3, 2 lets one broker be lost without stopping or losing writes.",
    )

    @model_validator(mode="after")
    def _enough_replicas(self) -> Self:
        if self.min_insync_replicas is not None and (
            self.min_insync_replicas > self.replication_factor
        ):
            raise ValueError("topics.min_insync_replicas exceeds topics.replication_factor")
        return self

    def name(self, role: str, app_name: str) -> str:
        """The topic of ``role`` (input, control, ...) for the application ``app_name``."""
        configured: str | None = getattr(self, role)
        return configured or f"{app_name}.{role.replace('_', '-')}"


def _dev_registry_url() -> str:
    port = dev_port(DEV_REGISTRY_OFFSET, DEV_REGISTRY_PORT)
    return f"http://127.0.0.1:{port}/apis/ccompat/v7"


class SchemaRegistrySettings(BaseModel):
    """Which Avro framing the task and snapshot topics carry, and the registry it needs.

    ``single-object`` (the default) needs no registry: each message names its writer schema
    by fingerprint. ``confluent`` is the wire format of Confluent's serializers (magic byte
    0, 4-byte schema id, Avro body), for Kafka Connect, ksqlDB, Flink and kcat; the schemas
    are registered by ``streamcore setup`` under ``<topic>-value``.
    """

    wire_format: Literal["single-object", "confluent"] = "single-object"
    url: str = Field(
        default_factory=_dev_registry_url,
        description="The registry's Confluent-compatible API (the dev registry's by default).",
    )
    username: str | None = None
    password: SecretStr | None = None
    compatibility: Literal[
        "BACKWARD",
        "BACKWARD_TRANSITIVE",
        "FORWARD",
        "FORWARD_TRANSITIVE",
        "FULL",
        "FULL_TRANSITIVE",
        "NONE",
    ] = "BACKWARD"

    @model_validator(mode="after")
    def _auth_pair(self) -> Self:
        if (self.username is None) != (self.password is None):
            raise ValueError("schema_registry.username and password go together")
        return self


class CassandraSettings(BaseModel):
    """Connection to the Cassandra cluster and the keyspace the application owns."""

    contact_points: list[str] = Field(default_factory=lambda: ["127.0.0.1"])
    port: int = Field(default_factory=lambda: dev_port(DEV_CASSANDRA_OFFSET, DEV_CASSANDRA_PORT))
    keyspace: str = Field(
        default="",
        description="The application's keyspace; empty: derived from the application name "
        "(``app_keyspace``), so two applications on one cluster never share entities.",
    )
    username: str | None = None
    password: SecretStr | None = None
    local_dc: str | None = Field(
        default=None,
        description="The datacenter this process is in: the driver then sends requests "
        "only to its nodes (DCAwareRoundRobinPolicy) and NetworkTopologyStrategy "
        "replicates the keyspace there.",
    )
    replication_factor: int = Field(default=1, ge=1)
    replication_strategy: Literal["SimpleStrategy", "NetworkTopologyStrategy"] = Field(
        default="SimpleStrategy",
        description="Of a keyspace ``setup`` creates (an existing one is left as it is); "
        "NetworkTopologyStrategy puts replication_factor replicas in local_dc, on "
        "distinct racks where there are racks.",
    )
    ssl_enabled: bool = Field(
        default=False,
        description="TLS to the native port; on by itself when ssl_ca_file or ssl_certfile is set.",
    )
    ssl_ca_file: str | None = Field(
        default=None, description="PEM CA bundle the server's certificate must chain to."
    )
    ssl_certfile: str | None = Field(default=None, description="PEM client certificate (mTLS).")
    ssl_keyfile: str | None = Field(default=None, description="PEM private key of ssl_certfile.")
    ssl_key_password: SecretStr | None = None
    ssl_check_hostname: bool = Field(
        default=True, description="The certificate must name the contact point (IP or DNS)."
    )
    connect_timeout_seconds: float | None = Field(
        default=None, gt=0, description="Driver connect timeout; unset: streamcore's (5 s)."
    )
    request_timeout_seconds: float | None = Field(
        default=None, gt=0, description="Driver request timeout; unset: streamcore's (30 s)."
    )
    protocol_version: int | None = Field(
        default=None, ge=3, le=6, description="Native protocol version; unset: 4."
    )

    @model_validator(mode="after")
    def _tls_implied(self) -> Self:
        if self.ssl_ca_file or self.ssl_certfile:
            self.ssl_enabled = True
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile):
            raise ValueError("cassandra.ssl_certfile and ssl_keyfile go together")
        if self.replication_strategy == "NetworkTopologyStrategy" and not self.local_dc:
            raise ValueError(
                "cassandra.replication_strategy NetworkTopologyStrategy needs local_dc"
            )
        return self

    def keyspace_datacenter(self) -> str | None:
        """The datacenter a new keyspace is replicated in (None: SimpleStrategy)."""
        if self.replication_strategy == "NetworkTopologyStrategy":
            return self.local_dc
        return None


def app_keyspace(app_name: str) -> str:
    """The default keyspace of ``app_name``: lower case, ``_`` for every character CQL does
    not allow, ``app_`` before a name that doesn't start with a letter or starts with
    ``system``, at most 48 characters (longer names end in a hash of the whole name).

    ``streamcore`` (the default application) keeps the keyspace ``streamcore``. Names that
    map to one keyspace (``my-app``, ``my_app``) are told apart by ``streamcore setup``,
    which records the owning application in the keyspace.
    """
    name = re.sub(r"[^a-z0-9_]", "_", app_name.lower())
    if not name[:1].isalpha() or name.startswith("system"):
        name = f"app_{name}"
    if len(name) > KEYSPACE_MAX:
        digest = f"{zlib.crc32(app_name.encode()):08x}"
        name = f"{name[: KEYSPACE_MAX - 9]}_{digest}"
    return name


KEYSPACE_MAX = 48
"""Cassandra's longest keyspace name."""


class MetricsSettings(BaseModel):
    """The HTTP endpoint serving ``/metrics`` and health; port 0 turns it off.

    Loopback by default: a pod sets ``host`` to ``0.0.0.0`` (the Helm chart does). With
    ``username``/``password`` (basic) or ``token`` (bearer) set, ``/metrics`` needs them and
    the health endpoints answer without detail unless the request carries them.
    """

    host: str = "127.0.0.1"
    port: int = Field(default=9100, ge=0, le=65535)
    username: str | None = Field(default=None, description="Basic auth user for /metrics.")
    password: SecretStr | None = Field(default=None, description="Basic auth password.")
    token: SecretStr | None = Field(default=None, description="Bearer token for /metrics.")
    liveness_seconds: float = Field(
        default=120.0,
        gt=0,
        description="/healthz fails when the process loop has not beaten for this long.",
    )

    @model_validator(mode="after")
    def _basic_auth_pair(self) -> Self:
        if (self.username is None) != (self.password is None):
            raise ValueError("metrics.username and metrics.password go together")
        return self


class ControlSettings(BaseModel):
    """How replicas take part in the control protocol (see ``streamcore.control``)."""

    heartbeat_seconds: float = Field(
        default=5.0, gt=0, description="Every replica announces itself this often."
    )
    live_heartbeats: int = Field(
        default=3, ge=1, description="A replica silent for this many heartbeats is not live."
    )
    secret: SecretStr | None = Field(
        default=None,
        description="Shared HMAC-SHA256 key: senders sign control messages, replicas refuse "
        "unsigned or badly signed ones. Unset: unauthenticated (a warning at start).",
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
    cache_bytes: int = Field(
        default=1 << 30,
        ge=0,
        description="Estimated bytes of the entity records kept between batches at most "
        "(the least recently used go first; 0: bounded by cache_entities alone).",
    )
    cache_hot_entities: int = Field(
        default=20_000,
        ge=0,
        description="Of the cached entity records, how many of the most recently used stay "
        "objects; the others are kept packed (about a fifth of the memory, unpacked on "
        "their next use). At least cache_entities: none is packed.",
    )
    consumer_group: str | None = Field(
        default=None, description="Consumer group; defaults to <app_name>.ingest."
    )
    transaction_timeout_ms: int = Field(
        default=15_000,
        ge=1000,
        description="A dead worker's open transaction blocks its partitions this long at most.",
    )
    session_timeout_ms: int = Field(
        default=10_000,
        ge=1000,
        description="A worker that stops heartbeating loses its partitions after this long.",
    )
    max_hops: int = Field(
        default=10,
        ge=1,
        description="Derivations in a row (a hook's task deriving a task ...) before the "
        "next derived task is dead-lettered with its chain of modules.",
    )
    dead_letter_value_bytes: int = Field(
        default=256 * 1024,
        ge=0,
        le=512 * 1024,
        description="Original bytes kept in a dead letter at most (the rest is cut, said so).",
    )
    retry_initial_seconds: float = Field(
        default=0.5, gt=0, description="First wait after a transient failure."
    )
    retry_max_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Longest wait between two retries: also how long a worker may stay idle "
        "after the failed server is back.",
    )
    retry_budget_seconds: float = Field(
        default=240.0,
        gt=0,
        description="A failure episode longer than this ends the process (exit code 1).",
    )
    enforce_max_items: bool = Field(
        default=False,
        description="Keep at most history_params.max_items observation rows, the newest "
        "(DP³ documents max_items as not implemented and keeps every row: the default).",
    )


class HookSettings(BaseModel):
    """How module hooks are supervised (see README "Hook supervision")."""

    time_budget_seconds: float = Field(
        default=10.0,
        ge=0,
        description="A hook call running longer is interrupted (0: no budget).",
    )
    stuck_after_budgets: float = Field(
        default=3.0,
        ge=1,
        description="/healthz fails while one hook call has run this many budgets.",
    )
    error_log_interval_seconds: float = Field(
        default=60.0,
        ge=0,
        description="After a hook's first failure, one log line per this interval (0: all).",
    )


KAFKA_MAX_MESSAGE_BYTES = 1_000_000
"""librdkafka's default ``message.max.bytes`` (the broker's is 1 MiB + 12 bytes): our own
message limit stays below it, so an oversized task is refused by us, with a reason."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Input bounds, plain (``streamcore.limits.TaskValidator`` checks them on the hot path);
    ``LimitsSettings`` documents each default."""

    max_value_bytes: int = 65_536
    max_elements: int = 10_000
    max_data_points: int = 10_000
    max_message_bytes: int = 900_000


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


class ApiSettings(BaseModel):
    """``streamcore api``: the HTTP API (see README "HTTP API")."""

    host: str = Field(default="127.0.0.1", description="Bind address (a pod sets 0.0.0.0).")
    port: int = Field(default=5000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, description="uvicorn worker processes.")
    root_path: str = Field(default="", description="Path prefix behind a reverse proxy.")
    ssl_certfile: str | None = Field(default=None, description="PEM certificate: serve HTTPS.")
    ssl_keyfile: str | None = Field(default=None, description="PEM key of ssl_certfile.")
    cors_origins: list[str] = Field(
        default_factory=lambda: ["*"], description="CORS allowed origins (DP³'s default: all)."
    )
    max_request_bytes: int = Field(
        default=10_000_000, ge=1, description="A larger request body is refused with 413."
    )
    token: SecretStr | None = Field(
        default=None,
        description="Bearer token required by writes and control (unset: open, a warning).",
    )
    produce_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="POST /datapoints answers 503 if Kafka has not acknowledged by then.",
    )
    scan_limit: int = Field(
        default=100_000,
        ge=1,
        description="Latest snapshots one filtered listing, count or distinct reads at most "
        "(over it: 400 asking for a narrower filter).",
    )
    request_timeout_seconds: float = Field(
        default=10.0, gt=0, description="A Cassandra read taking longer answers 503."
    )

    @model_validator(mode="after")
    def _tls_pair(self) -> Self:
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile):
            raise ValueError("api.ssl_certfile and ssl_keyfile go together")
        return self


class Settings(BaseSettings):
    """Everything a streamcore process needs to reach its servers."""

    model_config = SettingsConfigDict(
        env_prefix="STREAMCORE_", env_nested_delimiter="__", extra="ignore"
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    cassandra: CassandraSettings = Field(default_factory=CassandraSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)
    schema_registry: SchemaRegistrySettings = Field(default_factory=SchemaRegistrySettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    snapshots: SnapshotSettings = Field(default_factory=SnapshotSettings)
    control: ControlSettings = Field(default_factory=ControlSettings)
    hooks: HookSettings = Field(default_factory=HookSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    dp3_compat: bool = Field(
        default=False,
        description="Let unchanged DP³ modules (importing dp3.common.*) load and run.",
    )

    def for_app(self, app_name: str) -> Settings:
        """These settings with the keyspace resolved for ``app_name`` (``app_keyspace``)
        when none is set; every process calls this once, at its composition root."""
        if self.cassandra.keyspace:
            return self
        cassandra = self.cassandra.model_copy(update={"keyspace": app_keyspace(app_name)})
        return self.model_copy(update={"cassandra": cassandra})
