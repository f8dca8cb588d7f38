"""DP³'s JSON data-point format (``POST /datapoints``), read item by item with line numbers.

Input is either one JSON array of data-points or JSON lines (one data-point per line).
Each item is yielded with the line it starts on, or with the error that makes it unusable,
so a caller can report every bad item and carry on with the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from streamcore.model.datapoint import DataPoint

_KEYS = {"type", "id", "attr", "v", "t1", "t2", "c", "src"}
_REQUIRED = ("type", "id", "attr", "v")
_decoder = json.JSONDecoder()


@dataclass(frozen=True, slots=True)
class InputItem:
    """One input item: a data-point, or why there is none."""

    line: int
    data_point: DataPoint | None
    error: str | None = None


def datapoint_from_json(item: Any) -> DataPoint:
    """A (not yet validated) ``DataPoint`` from one DP³ JSON object; ``ValueError`` if malformed."""
    if not isinstance(item, dict):
        raise ValueError("a data-point must be a JSON object")
    missing = [key for key in _REQUIRED if key not in item]
    if missing:
        raise ValueError(f"missing key(s): {', '.join(missing)}")
    unknown = item.keys() - _KEYS
    if unknown:
        raise ValueError(f"unknown key(s): {', '.join(sorted(unknown))}")
    if not isinstance(item["type"], str) or not isinstance(item["attr"], str):
        raise ValueError("'type' and 'attr' must be strings")
    return DataPoint(
        etype=item["type"],
        eid=item["id"],
        attr=item["attr"],
        v=item["v"],
        t1=item.get("t1"),
        t2=item.get("t2"),
        c=item.get("c"),
        src=item.get("src"),
    )


def read_items(text: str) -> Iterator[InputItem]:
    """Items of a JSON array or of JSON lines, each with its starting line number."""
    start = len(text) - len(text.lstrip())
    if text[start : start + 1] == "[":
        yield from _array_items(text, start + 1)
    else:
        yield from _line_items(text)


def _item(line: int, raw: Any) -> InputItem:
    try:
        return InputItem(line, datapoint_from_json(raw))
    except ValueError as exc:
        return InputItem(line, None, str(exc))


def _line_items(text: str) -> Iterator[InputItem]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except ValueError as exc:
            yield InputItem(number, None, f"invalid JSON: {exc}")
            continue
        yield _item(number, raw)


def _array_items(text: str, pos: int) -> Iterator[InputItem]:
    """Walk the array with ``raw_decode`` so each item knows its line; stop at a syntax error
    (after it nothing can be located reliably)."""
    length = len(text)
    expect_item = True
    while True:
        while pos < length and text[pos] in " \t\r\n":
            pos += 1
        line = text.count("\n", 0, pos) + 1
        if pos >= length:
            yield InputItem(line, None, "invalid JSON: unterminated array")
            return
        char = text[pos]
        if char == "]":
            return
        if char == "," and not expect_item:
            pos += 1
            expect_item = True
            continue
        if not expect_item:
            yield InputItem(line, None, "invalid JSON: expected ',' or ']' between items")
            return
        try:
            raw, pos = _decoder.raw_decode(text, pos)
        except ValueError as exc:
            yield InputItem(line, None, f"invalid JSON: {exc}")
            return
        expect_item = False
        yield _item(line, raw)
