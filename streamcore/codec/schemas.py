"""The Avro schemas streamcore writes and every schema it can still read.

``schemas/*.avsc`` are the current schemas (what writers use and readers resolve to);
``schemas/history/*.avsc`` are earlier versions, kept so messages written with them stay
readable. Each schema is known by its full name and by its CRC-64-AVRO fingerprint, the
identity that single-object encoding puts in front of every message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastavro import parse_schema
from fastavro.schema import fingerprint, to_parsing_canonical_form

from streamcore.errors import ConfigError

SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "schemas"


@dataclass(frozen=True)
class Schema:
    """One parsed Avro schema and its identity on the wire."""

    name: str
    parsed: Any
    fingerprint: bytes
    text: str = field(default="", compare=False)
    """The schema as written (defaults and docs kept): what a schema registry is given."""

    @classmethod
    def from_json(cls, schema: dict[str, Any]) -> Schema:
        parsed: Any = parse_schema(schema, _write_hint=False)
        canonical = to_parsing_canonical_form(parsed)
        fp = bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))  # little-endian, as the spec
        text = json.dumps(schema, separators=(",", ":"))
        return cls(name=str(parsed["name"]), parsed=parsed, fingerprint=fp, text=text)


class SchemaRegistry:
    """Known writer schemas by fingerprint, and the current schema of each record name."""

    def __init__(self) -> None:
        self.current: dict[str, Schema] = {}
        self.by_fingerprint: dict[bytes, Schema] = {}

    def add(self, schema: Schema, *, current: bool) -> Schema:
        """Register ``schema``; ``current`` makes it the one written and read into."""
        self.by_fingerprint[schema.fingerprint] = schema
        if current:
            if schema.name in self.current and self.current[schema.name] != schema:
                raise ConfigError(f"two current schemas named {schema.name}")
            self.current[schema.name] = schema
        return schema

    @classmethod
    def from_directory(cls, directory: Path) -> SchemaRegistry:
        """Current schemas from ``directory``, older ones from ``directory/history``."""
        registry = cls()
        for current, files in (
            (False, (directory / "history").glob("*.avsc")),
            (True, directory.glob("*.avsc")),
        ):
            for path in sorted(files):
                with path.open(encoding="utf-8") as handle:
                    registry.add(Schema.from_json(json.load(handle)), current=current)
        if not registry.current:
            raise ConfigError(f"no Avro schemas (*.avsc) in {directory}")
        return registry


@lru_cache(maxsize=1)
def default_registry() -> SchemaRegistry:
    """The registry of the schemas shipped in the repository's ``schemas/`` directory."""
    return SchemaRegistry.from_directory(SCHEMAS_DIR)
