"""Binding entity-state rows without the driver's per-call overhead: the write hot path.

``PreparedStatement.bind`` costs ~9 µs a row (a column descriptor and encryption-policy
check per value, two calendar conversions of times). A batch binds thousands of rows
whose entity type, id, attribute and times repeat, so ``RowBinder`` serializes each value
with the driver's own column serializer and remembers those that repeat within a write.
The values it binds are byte-identical to ``bind``'s (an integration test holds it to
that); a statement whose columns are encrypted is left to ``bind``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from cassandra.query import BoundStatement, PreparedStatement

Serializer = Callable[[Any, int], bytes]


class RowBinder:
    """Bound statements of one prepared statement; one binder per ``write`` (its memory of
    repeated values lives as long as the write).

    ``repeating`` flags the columns whose values repeat across rows; only hashable,
    immutable values may go there (text, times). Memory is per column, so equal values of
    different columns never share bytes.
    """

    def __init__(self, prepared: PreparedStatement, repeating: Sequence[bool]) -> None:
        self._prepared = prepared
        self._version = prepared.protocol_version
        self._types: list[Serializer] = [col.type.serialize for col in prepared.column_metadata]
        self.fast = not prepared.column_encryption_policy
        """False: every row goes through the driver's own ``bind`` (encrypted columns)."""
        self._memos: list[dict[Any, bytes] | None] = [{} if r else None for r in repeating]

    def bind(self, values: Sequence[Any]) -> BoundStatement:
        """``prepared.bind(values)``, byte for byte."""
        if not self.fast or len(values) != len(self._types):
            return self._prepared.bind(values)
        version = self._version
        serialized: list[bytes | None] = []
        for value, serialize, memo in zip(values, self._types, self._memos, strict=True):
            if value is None:
                serialized.append(None)
            elif memo is None:
                serialized.append(serialize(value, version))
            else:
                key = value if type(value) is str else _exact(value)
                found = memo.get(key)
                if found is None:
                    found = memo[key] = serialize(value, version)
                serialized.append(found)
        statement = BoundStatement(self._prepared)
        statement.raw_values = values
        statement.values = serialized
        return statement


def _exact(value: Any) -> Any:
    """A key equal only for values that serialize alike: datetimes equal across time zones
    (or naive vs aware) compare equal but may not be the same instant to the driver."""
    if type(value) is datetime:
        return (value, value.tzinfo)
    return (type(value), value)
