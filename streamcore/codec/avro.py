"""Avro single-object encoding: ``C3 01`` + 8-byte CRC-64-AVRO fingerprint + Avro binary.

The fingerprint names the writer's schema, so a reader can decode messages written with
any schema it knows (``SchemaRegistry``) and resolve them to the schema it was built for.
This is what lets the schemas evolve without stopping the world; the rules are in
``schemas/README.md``.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from fastavro import schemaless_reader, schemaless_writer

from streamcore.codec.schemas import Schema, SchemaRegistry
from streamcore.errors import DecodeError, RawRecord

MAGIC = b"\xc3\x01"
HEADER_LEN = 10


class AvroCodec:
    """Encodes with the current schema of one record name; decodes from any known writer."""

    def __init__(self, registry: SchemaRegistry, name: str) -> None:
        self.registry = registry
        self.schema: Schema = registry.current[name]
        self.header = MAGIC + self.schema.fingerprint

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
        if len(data) < HEADER_LEN or data[:2] != MAGIC:
            raise DecodeError("not an Avro single-object message (bad header)", record)
        writer = self.registry.by_fingerprint.get(data[2:HEADER_LEN])
        if writer is None:
            raise DecodeError(
                f"written with an unknown schema (fingerprint {data[2:HEADER_LEN].hex()}); "
                "add it to the reader's schemas/history",
                record,
            )
        if writer.name != self.schema.name:
            raise DecodeError(f"a {writer.name} message, expected {self.schema.name}", record)
        reader = None if writer is self.schema else self.schema.parsed
        stream = BytesIO(data)
        stream.seek(HEADER_LEN)
        try:
            datum = schemaless_reader(stream, writer.parsed, reader, return_record_name=True)
        except Exception as exc:  # fastavro raises many types on truncated or corrupt input
            raise DecodeError(f"corrupt Avro payload: {exc}", record) from exc
        if stream.tell() != len(data):
            raise DecodeError("trailing bytes after the Avro payload", record)
        if not isinstance(datum, dict):
            raise DecodeError("the payload is not a record", record)
        return datum
