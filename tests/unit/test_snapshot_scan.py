"""The snapshot scan's parsing, on a fake session: the driver's plain tuple rows (columns
in the scan's ``SELECT`` order, pages of them) into whole entity records, grouped in lists
of ``page`` entities; and the ``vals`` of latest snapshots, exactly as ``json.dumps``
writes them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from ipaddress import IPv4Address
from typing import Any

import pytest

from streamcore.state.record import PLAIN_KEY
from streamcore.state.session import TUPLES_PROFILE
from streamcore.state.snapshot_schema import indexed_values
from streamcore.state.snapshots import SnapshotStore
from streamcore.testing.config import model_spec_from_dicts

T1 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC).replace(tzinfo=None)  # naive, as the driver
T2 = datetime(2026, 11, 25, 11, 0, tzinfo=UTC).replace(tzinfo=None)  # returns timestamps
MODEL = model_spec_from_dicts(
    {
        "ip": {
            "entity": {"id": "ip", "id_data_type": "ipv4", "name": "IP", "snapshot": True},
            "attribs": {
                "label": {"name": "l", "type": "plain", "data_type": "string"},
                "port": {
                    "name": "p",
                    "type": "observations",
                    "data_type": "int",
                    "history_params": {"pre_validity": "1h", "post_validity": "1h"},
                },
            },
        },
        "note": {
            "entity": {"id": "note", "name": "N", "snapshot": False},
            "attribs": {"text": {"name": "t", "type": "plain", "data_type": "string"}},
        },
    }
)


def static(etype: str, eid: str, created: datetime | None = T1) -> tuple[Any, ...]:
    """An entity's static-only row (no attribute): created, created_by, ttl_tokens."""
    return (etype, eid, None, None, None, None, None, None, None, created, "w", {"base": T2})


def value(etype: str, eid: str, attr: str, key: bytes, v: str, **times: Any) -> tuple[Any, ...]:
    t1, t2 = times.get("t1"), times.get("t2")
    c = 0.5 if t1 else None
    return (etype, eid, attr, key, v, t1, t2, c, "src", T1, "w", {"base": T2})


class FakeResult:
    def __init__(self, rows: list[tuple[Any, ...]], state: bytes | None) -> None:
        self.current_rows, self.paging_state = rows, state


class FakeFuture:
    def __init__(self, result: FakeResult) -> None:
        self._result = result

    def result(self) -> FakeResult:
        return self._result


class FakeStatement:
    consistency_level: int | None = None
    fetch_size: int | None = None

    def bind(self, values: Any) -> FakeStatement:
        return FakeStatement()


class FakeSession:
    """Serves ``pages`` of scan rows, one per request, following the paging state."""

    def __init__(self, pages: list[list[tuple[Any, ...]]]) -> None:
        self.pages = pages
        self.requests: list[tuple[bytes | None, str, int | None]] = []
        self.cluster = type("Cluster", (), {"metadata": None})()

    def prepare(self, cql: str) -> FakeStatement:
        return FakeStatement()

    def execute_async(self, statement: Any, **options: Any) -> FakeFuture:
        state = options.get("paging_state")
        self.requests.append((state, options["execution_profile"], statement.fetch_size))
        index = 0 if state is None else int(state)
        more = str(index + 1).encode() if index + 1 < len(self.pages) else None
        return FakeFuture(FakeResult(self.pages[index], more))


def scan(pages: list[list[tuple[Any, ...]]], page: int = 10) -> tuple[list[Any], FakeSession]:
    session = FakeSession(pages)
    store = SnapshotStore(session, "ks", MODEL)  # type: ignore[arg-type]
    return list(store.scan(0, 1, frozenset({"ip"}), page)), session


def test_rows_become_whole_records_across_pages() -> None:
    pages = [
        [
            static("ip", "10.0.0.1"),
            value("ip", "10.0.0.1", "label", PLAIN_KEY, '"a"'),
            value("ip", "10.0.0.1", "port", b"k1", "22", t1=T1, t2=T2),
        ],
        [  # the same entity goes on in the next page
            value("ip", "10.0.0.1", "port", b"k2", "80", t1=T1, t2=T2),
            static("ip", "10.0.0.2"),
        ],
    ]
    chunks, session = scan(pages)
    [[first, second]] = chunks
    assert (first.etype, first.eid, first.eid_key) == ("ip", IPv4Address("10.0.0.1"), "10.0.0.1")
    assert first.exists and first.created == T1.replace(tzinfo=UTC)
    assert first.created_by == "w" and first.ttl_tokens == {"base": T2.replace(tzinfo=UTC)}
    assert first.plain("label") == "a"
    ports = first.attrs["port"]
    assert [row.value for row in ports.values()] == [22, 80]
    assert ports[b"k1"].t1 == T1.replace(tzinfo=UTC) and ports[b"k1"].t2 == T2.replace(tzinfo=UTC)
    assert (ports[b"k1"].c, ports[b"k1"].src, ports[b"k1"].v_json) == (0.5, "src", "22")
    assert second.eid == IPv4Address("10.0.0.2") and not second.attrs
    # every page through the tuple-rows profile, the next one asked with the last's state
    assert session.requests == [
        (None, TUPLES_PROFILE, 10),
        (b"1", TUPLES_PROFILE, 10),
    ]


def test_only_existing_entities_of_the_wanted_types_in_lists_of_page() -> None:
    rows = [
        static("note", "n1"),  # not a wanted type
        value("note", "n1", "text", PLAIN_KEY, '"x"'),
        static("ip", "10.0.0.1", created=None),  # rows without a master record
        value("ip", "10.0.0.1", "label", PLAIN_KEY, '"gone"'),
        *(static("ip", f"10.0.1.{i}") for i in range(5)),
        static("note", "n2"),
    ]
    chunks, _ = scan([rows], page=2)
    assert [[r.eid_key for r in chunk] for chunk in chunks] == [
        ["10.0.1.0", "10.0.1.1"],
        ["10.0.1.2", "10.0.1.3"],
        ["10.0.1.4"],
    ]


def test_unknown_attributes_are_skipped_and_bad_rows_quarantined() -> None:
    rows = [
        static("ip", "10.0.0.1"),
        value("ip", "10.0.0.1", "retired", PLAIN_KEY, '"old"'),
        value("ip", "10.0.0.1", "port", b"k", "not json", t1=T1, t2=T2),
        value("ip", "10.0.0.1", "label", PLAIN_KEY, '"ok"'),
    ]
    [[record]] = scan([rows])[0]
    assert set(record.attrs) == {"label"}
    [bad] = record.quarantined
    assert (bad.attr, bad.key, bad.v) == ("port", b"k", "not json")


@pytest.mark.parametrize(
    "document",
    [
        {"eid": "x", "a": "plain", "n": 5, "neg": -3, "b": True, "f": 1.5, "none": None},
        {"a": 'x\u00e9"\\\n', "emoji": "\U0001f600", "l": [1], "d": {"k": "v"}},
        {"big": 2**70, "low": -(2**63) - 1, "top": 2**64 - 1, "huge": 1e30, "eid": 7},
    ],
)
def test_indexed_values_are_json_dumps_of_strings_and_integers(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    expected = {
        key: json.dumps(v)
        for key, v in document.items()
        if key != "eid" and isinstance(v, str | int) and not isinstance(v, bool)
    }
    assert indexed_values(text) == expected


def test_indexed_values_read_nan_as_the_standard_library_does() -> None:
    assert indexed_values('{"x": NaN, "s": "t"}') == {"s": '"t"'}
