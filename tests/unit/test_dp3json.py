"""Reading DP³'s JSON data-point format with line numbers."""

from __future__ import annotations

from streamcore.codec.dp3json import read_items


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
