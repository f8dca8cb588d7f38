"""``dp3.common.datatype``: data types, the entity id type alias and DP³'s type tables."""

from __future__ import annotations

import re
from datetime import datetime
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from pydantic import BaseModel, model_validator

from streamcore.model.datapoint import Link
from streamcore.model.datatypes import EID_TYPES, PRIMITIVE_TYPES, DataType
from streamcore.model.primitives import MACAddress

AnyEidT = str | int | IPv4Address | IPv6Address | MACAddress
"""An entity id: its type is the ``id_data_type`` of the entity type (string by default)."""

re_array = re.compile(r"^array<(.+)>$")
re_set = re.compile(r"^set<(.+)>$")
re_link = re.compile(
    r"^link\s*<\s*(?P<etype>\w+)\s*(?:,\s*(?P<data>\S+)\s*)?(?:;\s*mirror=(?P<mirror>\S+)\s*)?>$"
)
re_dict = re.compile(r"^dict\s*<(\s*(\w+\??:\w+,\s*)*(\w+\??:\w+\s*))>$")
re_category = re.compile(r"^category<\s*(?P<type>\w+)\s*;\s*(?P<vals>(?:\s*\w+,\s*)*\s*\w+\s*)>$")

primitive_data_types: dict[str, Any] = {
    "tag": bool,
    "binary": bool,
    "string": str,
    "int": int,
    "int64": int,
    "float": float,
    "ipv4": IPv4Address,
    "ipv6": IPv6Address,
    "mac": MACAddress,
    "time": datetime,
    "special": Any,
    "json": dict | list,
}
"""Primitive data type -> the Python type of its values."""
assert primitive_data_types.keys() == PRIMITIVE_TYPES

eid_data_types = list(EID_TYPES)

EidDataType = DataType
"""DP³'s ``DataType`` restricted to id types; streamcore checks that in ``EntitySpec``."""


class ReadOnly(BaseModel):
    """The value type of read-only (mirror) attributes: a data-point can't be built."""

    @model_validator(mode="before")
    @classmethod
    def fail(cls, data: Any) -> Any:
        raise ValueError("Cannot instantiate a read-only attribute datapoint.")


def is_primitive_element_type(data_type: DataType) -> bool:
    """Whether the type is a primitive or a link (what an array/set may hold)."""
    return data_type.root in PRIMITIVE_TYPES or data_type.is_link


__all__ = [
    "AnyEidT",
    "DataType",
    "EidDataType",
    "Link",
    "ReadOnly",
    "eid_data_types",
    "is_primitive_element_type",
    "primitive_data_types",
    "re_array",
    "re_category",
    "re_dict",
    "re_link",
    "re_set",
]
