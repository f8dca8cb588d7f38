"""What stands in front of the Avro body and names its writer schema: the framing.

Two framings, chosen by ``SchemaRegistrySettings.wire_format``:

- ``SingleObjectFraming`` (ours, the default): ``C3 01`` + the writer schema's 8-byte
  CRC-64-AVRO fingerprint. No registry: the reader ships every writer schema it accepts.
- ``ConfluentFraming``: byte ``00`` + the writer schema's 4-byte big-endian id in a schema
  registry, as Confluent's serializers write it (Kafka Connect, ksqlDB, Flink, kcat read
  it). Writer schemas are fetched by id from the registry once and kept.

A message in the other framing, or naming a schema nobody knows, is a ``DecodeError``
(dead-lettered with the reason), never a crash.
"""

from __future__ import annotations

import json
from typing import Protocol

from streamcore.codec.schemas import Schema, SchemaRegistry
from streamcore.errors import DecodeError, RawRecord

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
SINGLE_OBJECT_HEADER_LEN = 10
CONFLUENT_MAGIC = b"\x00"
CONFLUENT_HEADER_LEN = 5


class Framing(Protocol):
    """Writes the header of a schema; finds a message's writer schema and body."""

    def header(self, schema: Schema) -> bytes:
        """The bytes in front of a body written with ``schema``."""
        ...

    def writer(self, data: bytes, record: RawRecord | None) -> tuple[Schema, int]:
        """The writer schema of ``data`` and where its Avro body starts; ``DecodeError``."""
        ...


class SingleObjectFraming:
    def __init__(self, registry: SchemaRegistry) -> None:
        self.registry = registry

    def header(self, schema: Schema) -> bytes:
        return SINGLE_OBJECT_MAGIC + schema.fingerprint

    def writer(self, data: bytes, record: RawRecord | None) -> tuple[Schema, int]:
        end = SINGLE_OBJECT_HEADER_LEN
        if len(data) < end or data[:2] != SINGLE_OBJECT_MAGIC:
            raise DecodeError("not an Avro single-object message (bad header)", record)
        writer = self.registry.by_fingerprint.get(data[2:end])
        if writer is None:
            raise DecodeError(
                f"written with an unknown schema (fingerprint {data[2:end].hex()}); "
                "add it to the reader's schemas/history",
                record,
            )
        return writer, end


class SchemaIds(Protocol):
    """The registry as ``ConfluentFraming`` sees it (``streamcore.kafka.registry``)."""

    def id_of(self, subject: str, schema: str) -> int:
        """The id of ``schema`` (JSON text) registered under ``subject``;
        ``SchemaRegistryError`` when it is not registered there."""
        ...

    def schema_of(self, schema_id: int) -> str | None:
        """The schema (JSON text) the registry knows by ``schema_id``; None if none."""
        ...


class ConfluentFraming:
    """The Confluent wire format for the topic whose subject is ``subject``
    (TopicNameStrategy: ``<topic>-value``)."""

    def __init__(self, ids: SchemaIds, subject: str) -> None:
        self.ids = ids
        self.subject = subject
        self._headers: dict[bytes, bytes] = {}
        self._writers: dict[int, Schema] = {}

    def header(self, schema: Schema) -> bytes:
        header = self._headers.get(schema.fingerprint)
        if header is None:
            schema_id = self.ids.id_of(self.subject, schema.text)
            header = CONFLUENT_MAGIC + schema_id.to_bytes(4, "big")
            self._headers[schema.fingerprint] = header
        return header

    def writer(self, data: bytes, record: RawRecord | None) -> tuple[Schema, int]:
        if len(data) < CONFLUENT_HEADER_LEN or data[:1] != CONFLUENT_MAGIC:
            raise DecodeError(
                "not in the Confluent wire format (magic byte 0 + 4-byte schema id)", record
            )
        schema_id = int.from_bytes(data[1:CONFLUENT_HEADER_LEN], "big")
        writer = self._writers.get(schema_id)
        if writer is None:
            text = self.ids.schema_of(schema_id)
            if text is None:
                raise DecodeError(f"schema id {schema_id} is unknown to the registry", record)
            try:
                writer = Schema.from_json(json.loads(text))
            except Exception as exc:  # fastavro raises many types on a schema it can't parse
                raise DecodeError(
                    f"schema id {schema_id} is not an Avro schema we can read: {exc}", record
                ) from exc
            self._writers[schema_id] = writer
        return writer, CONFLUENT_HEADER_LEN
