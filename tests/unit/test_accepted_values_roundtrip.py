"""Whatever the validator accepts survives the whole way: encode -> decode -> merge ->
row TTL -> stored JSON and timestamps -> read back equal -> replay changes nothing.

Hypothesis draws raw values for every attribute of the example model, valid and hostile
alike (NaN, infinities, huge integers, edge times, lone surrogates, deep JSON). A refusal
must be an ``InvalidDataPointError``; an acceptance must go through every stage above
without an exception and come back equal.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cassandra.cqltypes import DateType
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamcore.codec import TaskDecoder, TaskEncoder
from streamcore.config.samples import example_model
from streamcore.errors import InvalidDataPointError
from streamcore.ingest.hook_runner import NoHooks
from streamcore.ingest.processor import TaskProcessor
from streamcore.limits import Limits, TaskValidator
from streamcore.model import DataPoint, DataPointTask
from streamcore.model.datatypes import DataType, Kind
from streamcore.model.spec import AttrSpecObservations, AttrSpecReadOnly, AttrSpecTimeseries
from streamcore.state.cassandra import stored_time
from streamcore.state.encoding import dumps
from streamcore.state.merge import MAX_TTL_SECONDS, row_expiry, storable_ttl
from streamcore.state.record import EntityRecord, Row
from streamcore.state.values import StoredValues

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
MODEL = example_model()
VALIDATOR = TaskValidator(MODEL, Limits(max_value_bytes=4096, max_elements=50), lambda: NOW)
ENCODER = TaskEncoder(MODEL)
DECODER = TaskDecoder(MODEL, check=VALIDATOR)
STORED = StoredValues(MODEL)
PROCESSOR = TaskProcessor(MODEL, NoHooks())
EIDS = {"ip": "192.0.2.1", "device": "aa:bb:cc:00:11:22", "domain": "example.org", "person": 42}

BOUNDED = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)

# Times: ordinary ones near "now", the window's edges, and anything a datetime can be.


def mostly(valid: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any]) -> Any:
    """``valid`` three times in four: a task is accepted only if all its values are."""
    return st.one_of(valid, valid, valid, hostile)


recent = st.datetimes(  # alive under every max_age of the model (the least is 1 day)
    min_value=datetime(2026, 11, 30),  # noqa: DTZ001 (hypothesis bounds are naive)
    max_value=datetime(2027, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
times = st.one_of(
    recent,
    recent,
    st.sampled_from(
        [
            datetime(1000, 1, 1, tzinfo=UTC),
            datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            datetime(8999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            datetime(9000, 1, 1, tzinfo=UTC),
            datetime(9999, 12, 31, tzinfo=UTC),
            datetime(9999, 6, 1, tzinfo=UTC),
            datetime(1, 1, 1, tzinfo=UTC),
            datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC),
        ]
    ),
    st.datetimes(timezones=st.just(UTC)),
)
hostile_numbers = st.one_of(
    st.floats(),
    st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.0, 5e-324, 1.7e308]),
    st.integers(min_value=-(2**70), max_value=2**70),
)
json_values = st.recursive(
    st.none() | st.booleans() | hostile_numbers | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)


def raw_values(data_type: DataType) -> st.SearchStrategy[Any]:
    """Raw (as sent) values of ``data_type``, mostly well-formed, sometimes hostile."""
    kind, name = data_type.kind, data_type.name
    if kind is Kind.CATEGORY:
        return st.sampled_from(data_type.categories) | st.text(max_size=3)
    if kind is Kind.ARRAY or kind is Kind.SET:
        return st.lists(raw_values(data_type.elem_type), max_size=6)
    if kind is Kind.DICT:
        return st.fixed_dictionaries(
            {key: raw_values(field) for key, (field, optional) in data_type.fields.items()}
        )
    if kind is Kind.LINK:
        target = data_type.get_linked_entity()
        link: dict[str, Any] = {"eid": st.just(EIDS[target])}
        if data_type.link_data is not None:
            link["data"] = raw_values(data_type.link_data)
        return st.fixed_dictionaries(link)
    return {
        "tag": st.booleans(),
        "binary": st.booleans(),
        "string": mostly(
            st.text(max_size=20), st.sampled_from(["\ud800", "x" * 5000, "\x00" * 700])
        ),
        "int": mostly(st.integers(min_value=-(2**31), max_value=2**31 - 1), hostile_numbers),
        "int64": mostly(st.integers(min_value=-(2**63), max_value=2**63 - 1), hostile_numbers),
        "float": mostly(st.floats(allow_nan=False, allow_infinity=False), hostile_numbers),
        "ipv4": st.ip_addresses(v=4).map(str),
        "ipv6": st.ip_addresses(v=6).map(str),
        "mac": st.binary(min_size=6, max_size=6).map(lambda b: b.hex(":")),
        "time": times,
        "special": json_values,
        "json": json_values | json_values.map(lambda v: "[" * 70 + "]" * 70),
    }[name]


def series_values(spec: AttrSpecTimeseries) -> st.SearchStrategy[dict[str, Any]]:
    return st.integers(min_value=1, max_value=3).flatmap(
        lambda n: st.fixed_dictionaries(
            {
                name: st.lists(
                    times if name.startswith("time") else raw_values(s.data_type),
                    min_size=n,
                    max_size=n,
                ).map(sorted if name.startswith("time") else list)
                for name, s in spec.series.items()
            }
        )
    )


@st.composite
def data_points(draw: st.DrawFn, etype: str, attr: str) -> DataPoint:
    spec = MODEL.attributes[etype, attr]
    if isinstance(spec, AttrSpecTimeseries):
        v = draw(series_values(spec))
        first = v.get("time") or v.get("time_first") or [draw(times)]
        return DataPoint(etype, None, attr, v, first[0], None, None, draw(st.none() | st.text()))
    v = draw(raw_values(spec.data_type))
    if not isinstance(spec, AttrSpecObservations):
        return DataPoint(etype, None, attr, v, src=draw(st.none() | st.text(max_size=5)))
    t1 = draw(times)
    t2 = draw(st.one_of(st.none(), times.filter(lambda t: t >= t1)))
    c = draw(mostly(st.none() | st.floats(min_value=0, max_value=1), hostile_numbers))
    return DataPoint(etype, None, attr, v, t1, t2, c)


def attributes() -> list[tuple[str, str]]:
    """Every attribute a data-point may set (not the read-only link mirrors)."""
    return sorted(
        key for key, spec in MODEL.attributes.items() if not isinstance(spec, AttrSpecReadOnly)
    )


def _stored(moment: datetime | None) -> datetime | None:
    """A timestamp as Cassandra keeps it and the store reads it back (driver codec)."""
    if moment is None:
        return None
    return stored_time(DateType.deserialize(DateType.serialize(moment, 5), 5))


def _read_back(record: EntityRecord) -> EntityRecord:
    """The record as ``CassandraStore.load`` would rebuild it from the stored rows."""
    again = EntityRecord(record.etype, record.eid, record.eid_key, exists=record.exists)
    again.created, again.created_by = record.created, record.created_by
    again.ttl_tokens = {name: _stored(t) for name, t in record.ttl_tokens.items()}  # type: ignore[misc]
    for attr, rows in record.attrs.items():
        for key, row in rows.items():
            value = STORED.read(record.etype, attr, row.v_json)
            again.attrs.setdefault(attr, {})[key] = Row(
                value, row.v_json, _stored(row.t1), _stored(row.t2), row.c, row.src
            )
    return again


def _check_the_whole_way(task: DataPointTask) -> bool:
    """False if the task was refused; True once it went the whole way."""
    try:
        VALIDATOR.validate(task)
    except InvalidDataPointError:
        return False  # refused up front, with a reason: what the validator is for
    decoded = DECODER.decode(ENCODER.encode(task))
    assert decoded == task
    record = EntityRecord(task.etype, task.eid, str(task.eid))
    PROCESSOR.process(record, decoded, "in:0:0", NOW)
    specs = MODEL.entity_attributes[task.etype]
    for attr, key in record.dirty_rows:
        row = record.attrs[attr].get(key)
        if row is None:
            continue  # merged away: the store deletes it
        ttl = storable_ttl(row_expiry(specs[attr], row), NOW)
        assert ttl is None or 0 < ttl <= MAX_TTL_SECONDS, (attr, row.t2, ttl)
        assert dumps(row.value) == row.v_json
        assert len(row.v_json.encode()) <= VALIDATOR.limits.max_value_bytes, attr
    for moment in record.ttl_tokens.values():
        assert _stored(moment) == moment
    again = _read_back(record)
    for attr, rows in record.attrs.items():
        for key, row in rows.items():
            back = again.attrs[attr][key]
            assert (back.value, back.t1, back.t2) == (row.value, row.t1, row.t2), attr
    # A replay onto the read-back record ends where the first run did (a row rebuilt from
    # Cassandra matches its data-point): exactly, except that DP³'s aggregation averages a
    # repeated observation's confidence in again, so aggregated rows keep their spans.
    before = _rows(again)
    PROCESSOR.process(again, DECODER.decode(ENCODER.encode(task)), "in:0:0", NOW)
    after = _rows(again)
    aggregated = {
        attr
        for attr, spec in specs.items()
        if isinstance(spec, AttrSpecObservations) and spec.history_params.aggregate
    }
    assert _exact(after, aggregated) == _exact(before, aggregated)
    assert _spans(after, aggregated) == _spans(before, aggregated)
    return True


def _rows(record: EntityRecord) -> dict[tuple[str, bytes], tuple[Any, ...]]:
    return {
        (attr, key): (row.v_json, row.t1, row.t2, row.c, row.src)
        for attr, rows in record.attrs.items()
        for key, row in rows.items()
    }


def _exact(rows: dict[tuple[str, bytes], tuple[Any, ...]], aggregated: set[str]) -> object:
    return {where: row for where, row in rows.items() if where[0] not in aggregated}


def _spans(rows: dict[tuple[str, bytes], tuple[Any, ...]], aggregated: set[str]) -> object:
    return {(where[0], *row[:3]) for where, row in rows.items() if where[0] in aggregated}


@pytest.mark.parametrize(("etype", "attr"), attributes(), ids=[".".join(a) for a in attributes()])
def test_every_accepted_value_survives_storage_and_reads_back_equal(etype: str, attr: str) -> None:
    accepted = []

    @BOUNDED
    @given(st.lists(data_points(etype, attr), min_size=1, max_size=3))
    def check(points: list[DataPoint]) -> None:
        if _check_the_whole_way(DataPointTask(etype, EIDS[etype], points)):
            accepted.append(points)

    check()
    assert accepted, "no drawn task was accepted: the test would prove nothing"


@BOUNDED
@given(
    st.dictionaries(st.text(max_size=3), times, max_size=3),
    st.sampled_from([timedelta(0), timedelta(days=1)]),
)
def test_accepted_ttl_tokens_are_stored_and_read_back(
    tokens: dict[str, datetime], offset: timedelta
) -> None:
    if offset and all(t < datetime(9999, 1, 1, tzinfo=UTC) for t in tokens.values()):
        tokens = {name: t + offset for name, t in tokens.items()}
    point = DataPoint("ip", None, "note", "x")
    _check_the_whole_way(DataPointTask("ip", EIDS["ip"], [point], ttl_tokens=tokens))
