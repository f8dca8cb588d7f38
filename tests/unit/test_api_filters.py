"""DP³'s generic filter language evaluated on snapshot documents (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from streamcore.api.filters import FilterError, compile_filters

DOCS: list[dict[str, Any]] = [
    {"eid": "10.0.0.1", "asn": 5, "tags": ["a", "b"], "link": {"eid": "x"}, "note": "Alpha"},
    {"eid": "10.0.1.9", "asn": 7, "tags": ["c"], "link": {"eid": "y"}, "note": "beta"},
    {"eid": "192.168.0.1", "asn": None, "tags": [], "note": "gamma"},
]


def matching(generic: Any = None, fulltext: Any = None) -> list[str]:
    predicate = compile_filters(generic, fulltext)
    return [doc["eid"] for doc in DOCS if predicate(doc)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["10.0.0.1", "10.0.1.9", "192.168.0.1"]),
        ({"asn": 5}, ["10.0.0.1"]),
        ({"asn": {"$eq": 7}}, ["10.0.1.9"]),
        ({"asn": {"$ne": 5}}, ["10.0.1.9", "192.168.0.1"]),
        ({"asn": {"$gt": 5}}, ["10.0.1.9"]),
        ({"asn": {"$gte": 5, "$lt": 7}}, ["10.0.0.1"]),
        ({"asn": {"$lte": 7}}, ["10.0.0.1", "10.0.1.9"]),
        ({"asn": {"$in": [5, 9]}}, ["10.0.0.1"]),
        ({"asn": {"$nin": [5, 9]}}, ["10.0.1.9", "192.168.0.1"]),
        ({"asn": None}, ["192.168.0.1"]),
        ({"tags": "c"}, ["10.0.1.9"]),
        ({"tags": ["a", "b"]}, ["10.0.0.1"]),
        ({"link.eid": "y"}, ["10.0.1.9"]),
        ({"link": {"$exists": True}}, ["10.0.0.1", "10.0.1.9"]),
        ({"link": {"$exists": False}}, ["192.168.0.1"]),
        ({"note": {"$regex": "^a", "$options": "i"}}, ["10.0.0.1"]),
        ({"note": {"$not": {"$regex": "a$"}}}, []),
        ({"$or": [{"asn": 5}, {"note": "gamma"}]}, ["10.0.0.1", "192.168.0.1"]),
        ({"$and": [{"asn": {"$gt": 1}}, {"tags": "a"}]}, ["10.0.0.1"]),
        ({"$nor": [{"asn": 5}, {"asn": 7}]}, ["192.168.0.1"]),
        ({"eid": "$$IPv4{10.0.1.9}"}, ["10.0.1.9"]),
        ({"eid": "$$IPv4Prefix{10.0.0.0/16}"}, ["10.0.0.1", "10.0.1.9"]),
        ({"eid": {"$gt": "$$IPv4{10.0.0.200}"}}, ["10.0.1.9", "192.168.0.1"]),
        ({"asn": "$$int{7}"}, ["10.0.1.9"]),
        # DP³'s own paths: its latest-snapshot documents keep the snapshot under ``last``
        ({"last.asn": 5}, ["10.0.0.1"]),
        ({"last.link.eid": "y"}, ["10.0.1.9"]),
        ({"last.eid": "$$IPv4Prefix{10.0.0.0/16}"}, ["10.0.0.1", "10.0.1.9"]),
        ({"$or": [{"last.asn": 5}, {"last.note": "gamma"}]}, ["10.0.0.1", "192.168.0.1"]),
        ({"last.tags": {"$exists": True, "$ne": []}}, ["10.0.0.1", "10.0.1.9"]),
    ],
)
def test_generic_filter(query: dict[str, Any], expected: list[str]) -> None:
    assert matching(query) == expected


def test_fulltext_overrides_generic_and_matches_list_items() -> None:
    assert matching({"note": "Alpha"}, {"note": "^g"}) == ["192.168.0.1"]
    assert matching({"last.note": "Alpha"}, {"note": "^g"}) == ["192.168.0.1"]
    assert matching(None, {"tags": "^c$"}) == ["10.0.1.9"]


def test_dates_compare_as_times() -> None:
    predicate = compile_filters({"t": {"$gte": "$$Date{2024-11-07T00:00:00Z}"}}, None)
    assert predicate({"t": "2024-11-08T00:00:00+00:00"})
    assert not predicate({"t": "2024-11-06T23:59:59+00:00"})
    assert compile_filters({"t": {"$lt": "$$DateTs{1609459200}"}}, None)(
        {"t": "2020-12-31T00:00:00+00:00"}
    )


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"a": {"$where": "x"}}, "$where"),
        ({"$text": {"$search": "x"}}, "$text"),
        ({"a": {"$elemMatch": {}}}, "$elemMatch"),
        ({"a": "$$Binary_ID{$$IPv4{1.2.3.4}}"}, "Binary_ID"),
        ({"a": {"$regex": "("}}, "regular expression"),
        ({"a": {"$in": 5}}, "$in"),
        ({"a": "$$IPv4{nope}"}, "IPv4"),
        ({"a": "$$DateTs{1e300}"}, "DateTs"),
        ({"$or": []}, "$or"),
    ],
)
def test_unsupported_or_bad_filters_name_the_problem(query: dict[str, Any], named: str) -> None:
    with pytest.raises(FilterError, match=named.replace("$", r"\$")):
        compile_filters(query, None)


def test_indexed_values_keep_strings_and_integers_only() -> None:
    from streamcore.state.snapshot_schema import indexed_values

    text = '{"eid": "1.2.3.4", "a": "x", "n": 5, "f": 1.5, "b": true, "l": [1], "d": {"k": 1}}'
    assert indexed_values(text) == {"a": '"x"', "n": "5"}
