"""Avro messages: a header naming the writer's schema, then the Avro binary body.

By default the header is single-object encoding's (``C3 01`` + 8-byte CRC-64-AVRO
fingerprint); ``codec.framing`` has the Confluent wire format too. The header names the
writer's schema, so a reader can decode messages written with any schema it knows and
resolve them to the schema it was built for. This is what lets the schemas evolve without
stopping the world; the rules are in ``schemas/README.md``.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from fastavro import schemaless_reader, schemaless_writer

from streamcore.codec.framing import (
    SINGLE_OBJECT_HEADER_LEN,
    SINGLE_OBJECT_MAGIC,
    Framing,
    SingleObjectFraming,
)
from streamcore.codec.schemas import Schema, SchemaRegistry
from streamcore.errors import DecodeError, RawRecord

MAGIC = SINGLE_OBJECT_MAGIC
HEADER_LEN = SINGLE_OBJECT_HEADER_LEN


class AvroCodec:
    """Encodes with the current schema of one record name; decodes from any known writer.

    ``framing``: single-object encoding unless given (``codec.framing``).
    """

    def __init__(self, registry: SchemaRegistry, name: str, framing: Framing | None = None) -> None:
        self.registry = registry
        self.schema: Schema = registry.current[name]
        self.framing = framing or SingleObjectFraming(registry)
        self._header: bytes | None = None

    @property
    def header(self) -> bytes:
        """The current schema's header (with a registry: looked up on first use, then kept)."""
        if self._header is None:
            self._header = self.framing.header(self.schema)
        return self._header

    def encode(self, datum: dict[str, Any]) -> bytes:
        """``datum`` as a dict of the current schema, unions in fastavro tuple notation."""
        out = BytesIO()
        out.write(self.header)
        schemaless_writer(out, self.schema.parsed, datum)
        return out.getvalue()

    def decode(self, data: bytes, record: RawRecord | None = None) -> dict[str, Any]:
        """The datum in the shape of the current schema. ``DecodeError`` on anything else.

        Record-typed union branches come back as ``(full name, dict)`` tuples, so a map is
        never mistaken for a record.
        """
        writer, start = self.framing.writer(data, record)
        if writer.name != self.schema.name:
            raise DecodeError(f"a {writer.name} message, expected {self.schema.name}", record)
        same = writer.fingerprint == self.schema.fingerprint
        reader = None if same else self.schema.parsed
        stream = BytesIO(data)
        stream.seek(start)
        try:
            datum = schemaless_reader(stream, writer.parsed, reader, return_record_name=True)
        except Exception as exc:  # fastavro raises many types on truncated or corrupt input
            raise DecodeError(f"corrupt Avro payload: {exc}", record) from exc
        if stream.tell() != len(data):
            raise DecodeError("trailing bytes after the Avro payload", record)
        if not isinstance(datum, dict):
            raise DecodeError("the payload is not a record", record)
        return datum
