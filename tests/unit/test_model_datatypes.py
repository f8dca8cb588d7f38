"""Parsing DP³ data-type strings."""

from __future__ import annotations

import pytest

from streamcore.model import Kind, parse_data_type


@pytest.mark.parametrize(
    ("text", "kind", "check"),
    [
        ("int64", Kind.PRIMITIVE, lambda t: t.name == "int64"),
        ("array<ipv4>", Kind.ARRAY, lambda t: t.iterable and t.elem_type.name == "ipv4"),
        ("set<link<ip>>", Kind.SET, lambda t: t.elem_type.link_to == "ip"),
        ("link<ip>", Kind.LINK, lambda t: t.get_linked_entity() == "ip" and not t.link_has_data()),
        ("link<ip, int>", Kind.LINK, lambda t: t.link_data.name == "int"),
        ("link<ip;mirror=peers>", Kind.LINK, lambda t: t.mirror_as == "peers"),
        ("link<ip,string; mirror=peers>", Kind.LINK, lambda t: t.mirror_link and t.link_has_data()),
        (
            "dict<port:int, tag?:string>",
            Kind.DICT,
            lambda t: t.fields["tag"][1] and not t.fields["port"][1],
        ),
        ("category<int; 1, 2, 3>", Kind.CATEGORY, lambda t: t.categories == ("1", "2", "3")),
    ],
)
def test_valid_types_parse(text: str, kind: Kind, check: object) -> None:
    data_type = parse_data_type(text)
    assert data_type.kind is kind
    assert callable(check) and check(data_type)
    assert str(data_type) == text


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("integer", "unknown data type 'integer'"),
        ("array<dict<a:int>>", "can't be an element of array"),
        ("dict<a:array<int>>", "only primitive types are allowed"),
        ("dict<a:int, a:int>", "defined twice"),
        ("dict<a>", "must look like 'name:type'"),
        ("category<json; a>", "category base type 'json'"),
    ],
)
def test_invalid_types_say_why(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=None) as info:
        parse_data_type(text)
    assert fragment in str(info.value)
