"""``dp3.common.datatype``: data types and the entity id type alias."""

from ipaddress import IPv4Address, IPv6Address

from streamcore.model.datapoint import Link
from streamcore.model.datatypes import DataType
from streamcore.model.primitives import MACAddress

AnyEidT = str | int | IPv4Address | IPv6Address | MACAddress
"""An entity id: its type is the ``id_data_type`` of the entity type (string by default)."""

__all__ = ["AnyEidT", "DataType", "Link"]
