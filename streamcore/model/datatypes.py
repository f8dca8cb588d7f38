"""DP³ data-type strings (``int``, ``array<ipv4>``, ``link<ip,int>`` ...) parsed into a tree.

Parsing is context-free: whether a linked entity type exists is checked by ``ModelSpec``,
which sees all entity types at once. The value validators are compiled from this tree in
``streamcore.model.values``.
"""

from __future__ import annotations

import re
from enum import Enum

PRIMITIVE_TYPES = frozenset(
    {
        "tag",
        "binary",
        "string",
        "int",
        "int64",
        "float",
        "ipv4",
        "ipv6",
        "mac",
        "time",
        "special",
        "json",
    }
)
EID_TYPES = ("string", "int", "ipv4", "ipv6", "mac")
SERIES_TYPES = ("int", "int64", "float", "time")

_ARRAY = re.compile(r"^array\s*<(.+)>$")
_SET = re.compile(r"^set\s*<(.+)>$")
_LINK = re.compile(
    r"^link\s*<\s*(?P<etype>\w+)\s*(?:,\s*(?P<data>[^;]+?)\s*)?(?:;\s*mirror\s*=\s*(?P<mirror>\w+)\s*)?>$"
)
_DICT = re.compile(r"^dict\s*<(.+)>$")
_DICT_KEY = re.compile(r"^(?P<key>\w+)(?P<optional>\??)$")
_CATEGORY = re.compile(r"^category\s*<\s*(?P<type>\w+)\s*;(?P<values>.+)>$")


class Kind(Enum):
    """What shape of value a data type holds."""

    PRIMITIVE = "primitive"
    CATEGORY = "category"
    ARRAY = "array"
    SET = "set"
    DICT = "dict"
    LINK = "link"


class DataType:
    """One parsed data type. ``root`` keeps the configured spelling (DP³ compatible)."""

    __slots__ = (
        "categories",
        "elem",
        "fields",
        "kind",
        "link_data",
        "link_to",
        "mirror",
        "name",
        "root",
    )

    def __init__(
        self,
        root: str,
        kind: Kind,
        name: str,
        *,
        elem: DataType | None = None,
        fields: dict[str, tuple[DataType, bool]] | None = None,
        categories: tuple[str, ...] = (),
        link_to: str | None = None,
        link_data: DataType | None = None,
        mirror: str | None = None,
    ) -> None:
        self.root = root
        self.kind = kind
        self.name = name  # primitive name, or the element/category base for composites
        self.elem = elem
        self.fields = fields or {}  # dict<...>: key -> (type, optional)
        self.categories = categories
        self.link_to = link_to
        self.link_data = link_data
        self.mirror = mirror

    @property
    def iterable(self) -> bool:
        """Whether values are arrays or sets of ``elem_type``."""
        return self.kind in (Kind.ARRAY, Kind.SET)

    @property
    def elem_type(self) -> DataType:
        """The element type of an array or set."""
        if self.elem is None:
            raise ValueError(f"data type '{self.root}' has no element type")
        return self.elem

    @property
    def is_link(self) -> bool:
        return self.kind is Kind.LINK

    @property
    def mirror_link(self) -> bool:
        return self.mirror is not None

    @property
    def mirror_as(self) -> str | None:
        return self.mirror

    def get_linked_entity(self) -> str:
        """The linked entity type; ``ValueError`` if this is not a link."""
        if self.link_to is None:
            raise ValueError(f"data type '{self.root}' is not a link")
        return self.link_to

    def link_has_data(self) -> bool:
        return self.link_data is not None

    @property
    def hashable(self) -> bool:
        """Whether values of this type can be put in a set (DP³ uses this for aggregation)."""
        return self.kind in (Kind.PRIMITIVE, Kind.CATEGORY) and self.name not in (
            "special",
            "json",
        )

    def __str__(self) -> str:
        return self.root

    def __repr__(self) -> str:
        return f"DataType('{self.root}')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DataType) and other.root.replace(" ", "") == self.root.replace(
            " ", ""
        )

    def __hash__(self) -> int:
        return hash(self.root.replace(" ", ""))


def parse_data_type(text: str) -> DataType:
    """Parse a DP³ data-type string; ``ValueError`` says what is wrong with it."""
    if not isinstance(text, str):
        raise ValueError(f"data type must be a string, got {text!r}")
    root = text.strip()
    if root in PRIMITIVE_TYPES:
        return DataType(root, Kind.PRIMITIVE, root)
    if match := _ARRAY.match(root):
        return _iterable(root, Kind.ARRAY, match.group(1).strip())
    if match := _SET.match(root):
        return _iterable(root, Kind.SET, match.group(1).strip())
    if match := _LINK.match(root):
        data = match.group("data")
        return DataType(
            root,
            Kind.LINK,
            "link",
            link_to=match.group("etype"),
            link_data=parse_data_type(data) if data else None,
            mirror=match.group("mirror"),
        )
    if match := _DICT.match(root):
        return _dict(root, match.group(1))
    if match := _CATEGORY.match(root):
        base = match.group("type")
        if base not in PRIMITIVE_TYPES or base in ("tag", "special", "json"):
            raise ValueError(f"category base type '{base}' must be a primitive value type")
        values = tuple(v.strip() for v in match.group("values").split(","))
        if not all(values):
            raise ValueError(f"category '{root}' has an empty value")
        return DataType(root, Kind.CATEGORY, base, categories=values)
    raise ValueError(f"unknown data type '{root}'")


def _iterable(root: str, kind: Kind, elem_text: str) -> DataType:
    elem = parse_data_type(elem_text)
    if elem.kind not in (Kind.PRIMITIVE, Kind.LINK, Kind.CATEGORY):
        raise ValueError(
            f"'{elem_text}' can't be an element of {kind.value}<...>: "
            "use a primitive type or a link"
        )
    return DataType(root, kind, elem.name, elem=elem)


def _dict(root: str, body: str) -> DataType:
    fields: dict[str, tuple[DataType, bool]] = {}
    for item in body.split(","):
        key_text, sep, type_text = item.partition(":")
        key_match = _DICT_KEY.match(key_text.strip())
        type_text = type_text.strip()
        if not sep or key_match is None:
            raise ValueError(
                f"dict field '{item.strip()}' must look like 'name:type' or 'name?:type'"
            )
        if type_text not in PRIMITIVE_TYPES:
            raise ValueError(
                f"dict field '{key_match.group('key')}' has type '{type_text}': "
                "only primitive types are allowed"
            )
        key = key_match.group("key")
        if key in fields:
            raise ValueError(f"dict field '{key}' is defined twice")
        fields[key] = (
            DataType(type_text, Kind.PRIMITIVE, type_text),
            bool(key_match.group("optional")),
        )
    return DataType(root, Kind.DICT, "dict", fields=fields)
