"""Reading DP³'s JSON data-point format with line numbers."""

from __future__ import annotations

import io

import pytest

from streamcore.codec import dp3json
from streamcore.codec.dp3json import InputItem, read_items, stream_items


def test_json_array_items_know_their_lines() -> None:
    text = """[
  {"type": "ip", "id": "1.2.3.4", "attr": "asn", "v": 1},
  {"type": "ip", "id": "1.2.3.4",
   "attr": "note", "v": "x", "src": "s"},
  {"type": "ip", "attr": "asn", "v": 1},
  42
]"""
    items = list(read_items(text))
    assert [i.line for i in items] == [2, 3, 5, 6]
    assert items[1].data_point is not None and items[1].data_point.src == "s"
    assert items[2].error == "missing key(s): id"
    assert items[3].error == "a data-point must be a JSON object"


def test_json_lines_and_syntax_errors() -> None:
    good = '{"type": "ip", "id": "1", "attr": "a", "v": 1}'
    text = f'{good}\n\n{{broken\n{good[:-1]}, "x": 2}}\n'
    items = list(read_items(text))
    assert [(i.line, i.error is None) for i in items] == [(1, True), (3, False), (4, False)]
    assert items[1].error is not None and items[1].error.startswith("invalid JSON")
    assert items[2].error == "unknown key(s): x"


def test_broken_array_stops_with_an_error() -> None:
    items = list(read_items('[{"type": "ip", "id": "1", "attr": "a", "v": 1} {"x": 1}]'))
    assert items[-1].error == "invalid JSON: expected ',' or ']' between items"
    assert list(read_items("[")) and list(read_items("["))[0].error is not None


ARRAY = """

[
  {"type": "ip", "id": "1.2.3.4", "attr": "asn", "v": 12345},
  123456789,
  {"type": "ip", "id": "1.2.3.4",
   "attr": "note", "v": "x\\u2028y", "src": "s"},
  {"type": "ip", "attr": "asn", "v": 1}]
"""
LINES = (
    '\n{"type": "ip", "id": "1", "attr": "a", "v": 1}\n{broken\n\n'
    '{"type": "ip", "id": "2", "attr": "a", "v": 22}'
)


def _summary(items: list[InputItem]) -> list[tuple[int, str | None, object]]:
    return [(i.line, i.error, i.data_point and i.data_point.v) for i in items]


@pytest.mark.parametrize("text", [ARRAY, LINES, '[{"x": 1} {"y": 2}]', "[1, 2", "  "])
def test_streaming_gives_the_same_items_whatever_the_chunk_size(text: str) -> None:
    whole = _summary(list(stream_items(io.StringIO(text), chunk_chars=len(text) + 1)))
    for size in (1, 2, 3, 5, 8, 13):
        assert _summary(list(stream_items(io.StringIO(text), chunk_chars=size))) == whole, size


def test_stream_positions_and_numbers_cut_by_chunks() -> None:
    items = list(stream_items(io.StringIO(ARRAY), chunk_chars=2))
    assert [(i.line, i.error) for i in items] == [
        (4, None),
        (5, "a data-point must be a JSON object"),  # 123456789 whole, not cut at a chunk
        (6, None),
        (8, "missing key(s): id"),
    ]
    assert items[0].data_point is not None and items[0].data_point.v == 12345
    lines = list(stream_items(io.StringIO(LINES), chunk_chars=3))
    assert [(i.line, i.error is None) for i in lines] == [(2, True), (3, False), (5, True)]


def test_stream_reports_progress_and_bounds_an_endless_item(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read: list[int] = []
    list(stream_items(io.StringIO(ARRAY), on_read=read.append, chunk_chars=10))
    assert sum(read) == len(ARRAY)
    monkeypatch.setattr(dp3json, "MAX_ITEM_CHARS", 50)
    endless = '[{"type": "ip", "v": "' + "x" * 200
    (item,) = list(stream_items(io.StringIO(endless), chunk_chars=10))
    assert item.error is not None and item.error.startswith("invalid JSON: Unterminated string")
    long_line = '{"v": "' + "x" * 200 + '"}\n{"type": "ip", "id": "1", "attr": "a", "v": 1}\n'
    items = list(stream_items(io.StringIO(long_line), chunk_chars=10))
    assert [(i.line, i.error) for i in items] == [
        (1, "line longer than 50 characters"),
        (2, None),
    ]
