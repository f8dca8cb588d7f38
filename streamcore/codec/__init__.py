"""Avro encoding of streamcore's messages (single-object encoding, evolvable schemas)."""

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
