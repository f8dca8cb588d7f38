"""Snapshot messages: the direct Avro encoder writes fastavro's bytes; snapshot JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address

import pytest

from streamcore.model.datapoint import Link
from streamcore.snapshot.messages import SnapshotCodec, values_json
from streamcore.state.values import _loads

RUN = datetime(2026, 11, 25, 12, 0, 0, 123_000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("etype", "eid", "time", "text"),
    [
        ("ip", IPv4Address("192.0.2.1"), RUN, '{"eid":"192.0.2.1","open_ports":[22]}'),
        ("domain", "é.example", RUN - timedelta(days=20_000), "{}"),
        ("ip", "x" * 300, datetime(1960, 1, 1, tzinfo=UTC), '{"v":"' + "ü" * 100 + '"}'),
    ],
)
def test_direct_encoding_is_fastavros(etype: str, eid: object, time: datetime, text: str) -> None:
    codec = SnapshotCodec()
    assert codec._direct
    direct = codec.encode(etype, eid, time, text)
    codec._direct = False
    assert direct == codec.encode(etype, eid, time, text)
    decoded = codec.decode(direct)
    assert (decoded.etype, decoded.time, decoded.values) == (etype, time, json.loads(text))


def test_snapshot_json_writes_addresses_links_and_collections_as_text_and_lists() -> None:
    values = {"eid": IPv4Address("192.0.2.1"), "l": Link("d"), "s": {3}, "t": (1, 2), "n": None}
    assert json.loads(values_json(values)) == {
        "eid": "192.0.2.1",
        "l": {"eid": "d"},
        "s": [3],
        "t": [1, 2],
        "n": None,
    }


def test_stored_text_orjson_refuses_is_still_read() -> None:
    assert _loads("[1, 2]") == [1, 2]
    assert _loads(str(2**70)) == 2**70
    assert _loads("NaN") != _loads("NaN")  # NaN, from the standard library
