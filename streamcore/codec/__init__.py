"""Avro encoding of streamcore's messages (evolvable schemas; single-object framing by default,
the Confluent wire format as an option: ``codec.framing``)."""

from streamcore.codec.avro import MAGIC, AvroCodec
from streamcore.codec.schemas import SCHEMAS_DIR, Schema, SchemaRegistry, default_registry
from streamcore.codec.tasks import ControlCodec, DeadLetterCodec, TaskDecoder, TaskEncoder

__all__ = [
    "MAGIC",
    "SCHEMAS_DIR",
    "AvroCodec",
    "ControlCodec",
    "DeadLetterCodec",
    "Schema",
    "SchemaRegistry",
    "TaskDecoder",
    "TaskEncoder",
    "default_registry",
]
