"""DP³'s JSON data-point format (``POST /datapoints``), read item by item with line numbers.

Input is either one JSON array of data-points or JSON lines (one data-point per line).
Each item is yielded with the line it starts on, or with the error that makes it unusable,
so a caller can report every bad item and carry on with the rest.

``stream_items`` reads its source in chunks and keeps only the item being parsed and the
current chunk: time is linear in the input and memory bounded by ``MAX_ITEM_CHARS``
whatever the input's size. Why ``raw_decode`` and not ijson (``bench/produce.py
--input-json`` times both): ijson's C backend yields plain dicts in 0.02-0.04 s per 10k
items where this loop yields checked ``DataPoint``s in 0.06-0.08 s, but ijson cannot say
on which line an item starts, and parsing is under a tenth of ``produce``'s time (encoding
and sending are the rest); so the line numbers win, with no dependency.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from streamcore.model.datapoint import DataPoint

_KEYS = {"type", "id", "attr", "v", "t1", "t2", "c", "src"}
_REQUIRED = ("type", "id", "attr", "v")
_decoder = json.JSONDecoder()
_SPACE = " \t\r\n"

CHUNK_CHARS = 1 << 20
"""Characters read from the source at a time."""
MAX_ITEM_CHARS = 16 << 20
"""One item (or line) longer than this is reported as an error instead of buffered whole;
far above any task the input limits accept (``STREAMCORE_LIMITS__MAX_MESSAGE_BYTES``)."""


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
    """Items of a JSON array or of JSON lines held in memory (see ``stream_items``)."""
    return stream_items(io.StringIO(text))


def stream_items(
    source: io.TextIOBase | io.StringIO | object,
    on_read: Callable[[int], None] | None = None,
    chunk_chars: int = CHUNK_CHARS,
) -> Iterator[InputItem]:
    """Items of a JSON array or of JSON lines read from ``source`` (``read(n)``), each with
    its starting line number; ``on_read(n)`` after every chunk of ``n`` characters."""
    chunks = _Chunks(source, on_read, chunk_chars)
    while not chunks.buf.strip(_SPACE) and chunks.more():
        pass  # leading blank input: its lines still count
    start = len(chunks.buf) - len(chunks.buf.lstrip(_SPACE))
    if chunks.buf[start : start + 1] == "[":
        yield from _array_items(chunks, start + 1)
    else:
        yield from _line_items(chunks)


class _Chunks:
    """The unparsed tail of the input: ``buf``, and the line number at ``counted_to``."""

    def __init__(
        self, source: object, on_read: Callable[[int], None] | None, chunk_chars: int
    ) -> None:
        self._read: Callable[[int], str] = source.read  # type: ignore[attr-defined]
        self._on_read = on_read
        self._size = chunk_chars
        self.buf = ""
        self.line = 1
        self.counted_to = 0
        self.eof = False

    def more(self, keep_from: int = 0) -> bool:
        """Drop ``buf[:keep_from]`` (counting its lines) and append a chunk; False at EOF."""
        if self.eof:
            return False
        chunk = self._read(self._size)
        if self._on_read is not None and chunk:
            self._on_read(len(chunk))
        if not chunk:
            self.eof = True
            return False
        self.line_at(keep_from)
        self.buf = self.buf[keep_from:] + chunk
        self.counted_to -= keep_from
        return True

    def line_at(self, pos: int) -> int:
        """The line number of ``buf[pos]`` (``pos`` never goes backwards)."""
        self.line += self.buf.count("\n", self.counted_to, pos)
        self.counted_to = pos
        return self.line


def _item(line: int, raw: Any) -> InputItem:
    try:
        return InputItem(line, datapoint_from_json(raw))
    except ValueError as exc:
        return InputItem(line, None, str(exc))


def _line_items(chunks: _Chunks) -> Iterator[InputItem]:
    number = 1
    skipping = False  # inside a line over MAX_ITEM_CHARS, already reported
    while True:
        lines = chunks.buf.split("\n")
        chunks.buf = "" if chunks.eof else lines.pop()
        for line in lines:
            if not skipping and line.strip(_SPACE):
                yield _line_item(number, line)
            skipping = False
            number += 1
        if len(chunks.buf) > MAX_ITEM_CHARS and not skipping:
            yield InputItem(number, None, f"line longer than {MAX_ITEM_CHARS} characters")
            skipping, chunks.buf = True, ""
        if skipping:
            chunks.buf = ""
        if not chunks.more():
            if chunks.buf.strip(_SPACE) and not skipping:
                yield _line_item(number, chunks.buf)
            return


def _line_item(number: int, line: str) -> InputItem:
    try:
        raw = json.loads(line)
    except ValueError as exc:
        return InputItem(number, None, f"invalid JSON: {exc}")
    return _item(number, raw)


def _array_items(chunks: _Chunks, pos: int) -> Iterator[InputItem]:
    """Walk the array with ``raw_decode`` so each item knows its line; stop at a syntax error
    (after it nothing can be located reliably).

    An item is taken only once something follows it in the buffer (a number cut by the
    chunk's end would parse as a shorter one); a failed parse reads another chunk and
    tries again, until the end of input or ``MAX_ITEM_CHARS``.
    """
    expect_item = True
    while True:
        buf = chunks.buf
        while pos < len(buf) and buf[pos] in _SPACE:
            pos += 1
        if pos >= len(buf):
            if chunks.more(pos):
                pos = 0
                continue
            yield InputItem(chunks.line_at(pos), None, "invalid JSON: unterminated array")
            return
        char = buf[pos]
        if char == "]":
            return
        if char == "," and not expect_item:
            pos += 1
            expect_item = True
            continue
        line = chunks.line_at(pos)
        if not expect_item:
            yield InputItem(line, None, "invalid JSON: expected ',' or ']' between items")
            return
        try:
            raw, end = _decoder.raw_decode(buf, pos)
            complete = end < len(buf) or chunks.eof
        except ValueError as exc:
            raw, end, complete, error = None, pos, False, exc
        if not complete:
            if len(buf) - pos <= MAX_ITEM_CHARS and chunks.more(pos):
                pos = 0
                continue
            if raw is None:
                yield InputItem(line, None, f"invalid JSON: {error}")
                return
        pos = end
        expect_item = False
        yield _item(line, raw)
