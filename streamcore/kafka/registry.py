"""The schema registry, through confluent-kafka's own client, for the Confluent wire format.

``RegistryIds`` is what ``codec.framing.ConfluentFraming`` asks (schema id <-> schema),
with the registry's errors classified here, once: a schema the registry does not know is
an answer (None, or a ``SchemaRegistryError`` naming ``streamcore setup``), anything else
(refused, unreachable) a ``SchemaRegistryError`` with the registry's own message.
``register_schemas`` is ``streamcore setup``'s step: the compatibility level, then the
current schemas, under TopicNameStrategy subjects (``<topic>-value``), idempotently.

confluent-kafka's registry client is imported only where the Confluent wire format is in
use: it brings httpx, authlib and attrs, about 22 MiB of RSS and 0.15 s of start-up that
every process (worker, API, ``streamcore produce``) would otherwise pay for nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from streamcore.codec.framing import ConfluentFraming, Framing
from streamcore.codec.schemas import Schema, default_registry
from streamcore.errors import RegistryUnavailableError, SchemaRegistryError
from streamcore.settings import SchemaRegistrySettings, Settings

if TYPE_CHECKING:
    from confluent_kafka.schema_registry import SchemaRegistryClient

TOPIC_SCHEMAS = {"input": "streamcore.DataPointTask", "snapshots": "streamcore.Snapshot"}
"""The topic roles that take the registry's wire format, and the record each carries.
Internal topics (control, snapshot tasks, dead letters) keep single-object encoding."""

_NOT_FOUND = 404
REQUEST_TIMEOUT_SECONDS = 10.0
"""Per HTTP request (the client retries a timed-out one, then ``RegistryUnavailableError``):
without it, a registry that accepts a connection and never answers stalls the caller for
good (its HTTP client has no timeout of its own)."""


def subject(topic: str) -> str:
    """TopicNameStrategy, the serializers' default: the value schema of ``topic``."""
    return f"{topic}-value"


def registry_client(settings: SchemaRegistrySettings) -> SchemaRegistryClient:
    from confluent_kafka.schema_registry import SchemaRegistryClient

    conf: dict[str, Any] = {"url": settings.url}
    if settings.username is not None and settings.password is not None:
        password = settings.password.get_secret_value()
        conf["basic.auth.user.info"] = f"{settings.username}:{password}"
    try:
        return SchemaRegistryClient({**conf, "timeout": REQUEST_TIMEOUT_SECONDS})
    except ValueError:  # older confluent-kafka (the lowest we allow): no such setting
        return SchemaRegistryClient(conf)


class RegistryIds:
    """Schema ids from the registry (the client caches both directions)."""

    def __init__(self, settings: SchemaRegistrySettings) -> None:
        from confluent_kafka.schema_registry import Schema
        from confluent_kafka.schema_registry.error import SchemaRegistryError as ClientError

        self.url = settings.url
        self.client = registry_client(settings)
        self._schema = Schema
        self._client_error = ClientError

    def id_of(self, subject: str, schema: str) -> int:
        try:
            found = self.client.lookup_schema(subject, self._schema(schema, "AVRO"))
        except self._client_error as exc:
            if exc.http_status_code == _NOT_FOUND:
                raise SchemaRegistryError(
                    f"the current schema is not registered under {subject} at {self.url}; "
                    "run streamcore setup"
                ) from exc
            raise self._failed(exc) from exc
        except Exception as exc:  # transport errors (connect, timeout) of the HTTP client
            raise self._failed(exc) from exc
        if found.schema_id is None:
            raise SchemaRegistryError(f"schema registry at {self.url}: no id for {subject}")
        return found.schema_id

    def schema_of(self, schema_id: int) -> str | None:
        try:
            return str(self.client.get_schema(schema_id).schema_str)
        except self._client_error as exc:
            if exc.http_status_code == _NOT_FOUND:
                return None
            raise self._failed(exc) from exc
        except Exception as exc:  # transport errors (connect, timeout) of the HTTP client
            raise self._failed(exc) from exc

    def register(self, name: str, schema: Schema, level: str) -> str:
        """Set ``name``'s compatibility ``level``, then register ``schema`` unless it is there."""
        client = self.client
        try:
            client.set_compatibility(name, level)
            try:
                found = client.lookup_schema(name, self._schema(schema.text, "AVRO"))
                return f"schema {name}: exists (id {found.schema_id}, compatibility {level})"
            except self._client_error as exc:
                if exc.http_status_code != _NOT_FOUND:
                    raise
            schema_id = client.register_schema(name, self._schema(schema.text, "AVRO"))
        except self._client_error as exc:
            if exc.http_status_code == 409:
                raise SchemaRegistryError(
                    f"{name}: the registry refused {schema.name} as incompatible with the "
                    f"versions it has ({level}): {exc.error_message}"
                ) from exc
            raise self._failed(exc) from exc
        except Exception as exc:  # transport errors (connect, timeout) of the HTTP client
            raise self._failed(exc) from exc
        return f"schema {name}: registered (id {schema_id}, compatibility {level})"

    def _failed(self, exc: Exception) -> SchemaRegistryError:
        """A refusal (4xx) is final; no answer, or a failure of the registry's own (5xx),
        may pass: ``RegistryUnavailableError``, which a worker retries with backoff."""
        status = exc.http_status_code if isinstance(exc, self._client_error) else None
        kind = (
            SchemaRegistryError
            if status is not None and 400 <= status < 500
            else (RegistryUnavailableError)
        )
        return kind(f"schema registry at {self.url}: {exc}")


def topic_framing(settings: Settings, topic: str) -> Framing | None:
    """The framing of ``topic`` (a task or snapshot topic): None for single-object."""
    if settings.schema_registry.wire_format != "confluent":
        return None
    return ConfluentFraming(RegistryIds(settings.schema_registry), subject(topic))


def register_schemas(settings: Settings, app_name: str) -> list[str]:
    """Set each subject's compatibility level, then register the current schema under it.

    The level goes first, so the registry checks the new schema against the versions
    already there under the level asked for; a refused schema is a ``SchemaRegistryError``
    carrying the registry's reason. Registering an already registered schema changes
    nothing (the registry returns the id it has).
    """
    if settings.schema_registry.wire_format != "confluent":
        return []
    registry = settings.schema_registry
    ids = RegistryIds(registry)
    level = registry.compatibility
    current = default_registry().current
    lines = []
    for role, record_name in TOPIC_SCHEMAS.items():
        name = subject(settings.topics.name(role, app_name))
        schema = current[record_name]
        lines.append(ids.register(name, schema, level))
    return lines
