"""The entity routes' work, shared by v1 (eid in the path) and v2 (eid in the query).

Listing, counting and distinct values read the latest snapshots (``latest_snapshots``)
bucket by bucket and evaluate the filters in Python (``filters.py``). An unfiltered,
unsorted page stops reading after ``skip + limit`` rows; a filtered one stops as soon as
the page is full; counting, sorting and distinct values read every latest snapshot of
the type. No request reads more than ``api.scan_limit`` snapshots: past it the answer
is a 400 asking for a narrower query (README "HTTP API" gives each cost).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any

from fastapi import HTTPException

from streamcore.api.filters import FilterError, Predicate, compile_filters, snapshot_path
from streamcore.api.models import (
    EntityEidAttrValueOrHistory,
    EntityEidCount,
    EntityEidData,
    EntityEidList,
)
from streamcore.api.routers.root import validation_error
from streamcore.api.services import ApiServices
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.model.datatypes import Kind
from streamcore.model.spec import (
    AttrSpecClassic,
    AttrSpecObservations,
    AttrSpecPlain,
    AttrSpecTimeseries,
    AttrType,
)
from streamcore.state.encoding import jsonable
from streamcore.state.master import master_record
from streamcore.state.reads import EntityReads

_SORT = re.compile(r"^([a-zA-Z_][a-zA-Z0-9_]*)(?::(-?1))?$")
_SORTABLE = {"tag", "binary", "string", "int", "int64", "float", "ipv4", "ipv6", "mac", "time"}
_FAR_PAST = datetime(1, 1, 1, tzinfo=UTC)
_FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)


class EntityService:
    def __init__(self, services: ApiServices) -> None:
        self.services = services
        self.model = services.config.model_spec
        self.scan_limit = services.settings.api.scan_limit
        self.raw_days = services.raw_retention_seconds // 86400 + 1

    @property
    def reads(self) -> EntityReads:
        """``NotSetUpError`` (a 503) until the application is set up."""
        return self.services.reads

    # Path and query checks -------------------------------------------------------------

    def check_etype(self, etype: str) -> str:
        if etype not in self.model.entities:
            raise validation_error(["path", "etype"], f"Entity type '{etype}' doesn't exist")
        return etype

    def parse_eid(self, etype: str, eid: str, where: str) -> Any:
        self.check_etype(etype)
        try:
            return self.model.parse_eid(etype, eid)
        except ValueError as exc:
            raise validation_error([where, "eid"], str(exc)) from exc

    def check_attr(self, etype: str, attr: str, where: str) -> Any:
        spec = self.model.entity_attributes[etype].get(attr)
        if spec is None:
            raise validation_error([where, "attr"], f"Attribute '{attr}' doesn't exist")
        return spec

    # Listing ---------------------------------------------------------------------------

    def _predicate(self, fulltext: Any, generic: Any) -> Predicate | None:
        if fulltext is not None and not isinstance(fulltext, dict):
            raise HTTPException(400, "Fulltext filter is invalid")
        if generic is not None and not isinstance(generic, dict):
            raise HTTPException(400, "Generic filter is invalid")
        for value in (fulltext or {}).values():
            if not isinstance(value, str):
                raise HTTPException(400, f"Filter '{value}' is not string")
        if not fulltext and not generic:
            return None
        return compile_filters(generic, fulltext)

    def _indexed(self, etype: str, generic: Any, fulltext: Any) -> tuple[str, str] | None:
        """A top-level equality of ``generic_filter`` the index on ``vals`` can answer:
        a plain or single-value observations attribute of a string, category or integer
        type, compared with a literal of that type (no magic string). The predicate still
        checks every row the index returns."""
        if not isinstance(generic, dict):
            return None
        specs = self.model.entity_attributes[etype]
        for path, cond in generic.items():
            attr = snapshot_path(path)
            if attr in (fulltext or {}):
                continue
            value = cond.get("$eq") if isinstance(cond, dict) and len(cond) == 1 else cond
            spec = specs.get(attr)
            if not isinstance(spec, AttrSpecClassic) or (
                isinstance(spec, AttrSpecObservations) and spec.multi_value
            ):
                continue
            kind = spec.data_type.kind
            name = str(spec.data_type)
            textual = kind is Kind.CATEGORY or name == "string"
            if textual and isinstance(value, str) and not value.startswith("$$"):
                return attr, json.dumps(value)
            if name in ("int", "int64") and type(value) is int:
                return attr, json.dumps(value)
        return None

    def _scan(
        self, etype: str, equal: tuple[str, str] | None = None
    ) -> Iterator[tuple[datetime, dict[str, Any]]]:
        rows = self.reads.latest(etype, equal=equal)
        for read, (time, _eid, doc) in enumerate(rows, start=1):
            if read > self.scan_limit:
                raise HTTPException(
                    400,
                    f"Query reads more than {self.scan_limit} latest snapshots of {etype} "
                    "(setting STREAMCORE_API__SCAN_LIMIT); narrow the filter or page less deep",
                )
            doc["_time_created"] = time.isoformat()
            yield time, doc

    def _sort_keys(self, etype: str, sort: list[str] | None) -> list[tuple[str, int]]:
        criteria = []
        for idx, spec in enumerate(sort or []):
            match = _SORT.match(spec)
            if match is None:
                raise validation_error(
                    ["query", "sort"],
                    f"Sort specification at position {idx} has invalid format '{spec}'. "
                    "Expected format 'attribute' or 'attribute:direction' where direction "
                    "is 1 or -1",
                )
            attr, direction = match.group(1), int(match.group(2) or 1)
            if attr != "eid":
                self._check_sortable(etype, attr, idx)
            criteria.append((attr, direction))
        return criteria

    def _check_sortable(self, etype: str, attr: str, idx: int) -> None:
        spec = self.model.entity_attributes[etype].get(attr)
        if spec is None:
            raise validation_error(
                ["query", "sort"], f"Attribute '{attr}' at position {idx} doesn't exist"
            )
        if not isinstance(spec, AttrSpecClassic) or (
            isinstance(spec, AttrSpecObservations) and spec.multi_value
        ):
            raise validation_error(
                ["query", "sort"],
                f"Cannot sort by attribute '{attr}' at position {idx}: only plain and "
                "single-value observations attributes are supported",
            )
        if str(spec.data_type) not in _SORTABLE:
            raise validation_error(
                ["query", "sort"],
                f"Cannot sort by attribute '{attr}' at position {idx}: data type "
                f"'{spec.data_type}' is not supported for sorting",
            )

    def listing(
        self,
        etype: str,
        *,
        fulltext: Any,
        generic: Any,
        skip: int,
        limit: int,
        sort: list[str] | None,
    ) -> EntityEidList:
        predicate = self._predicate(fulltext, generic)
        criteria = self._sort_keys(etype, sort)
        equal = self._indexed(etype, generic, fulltext)
        page: list[tuple[datetime, dict[str, Any]]] = []
        if criteria:
            matched = [
                row for row in self._scan(etype, equal) if predicate is None or predicate(row[1])
            ]
            for attr, direction in reversed(criteria):  # stable: the first key wins
                matched.sort(key=partial(_row_key, attr), reverse=direction < 0)
            page = matched[skip : skip + limit] if limit else matched[skip:]
        else:
            seen = 0
            for row in self._scan(etype, equal):
                if predicate is not None and not predicate(row[1]):
                    continue
                seen += 1
                if seen <= skip:
                    continue
                page.append(row)
                if limit and len(page) >= limit:
                    break
        time_created = max((time for time, _ in page), default=None)
        data = []
        for _, doc in page:
            doc.pop("_time_created", None)
            data.append(doc)
        return EntityEidList(time_created=time_created, count=len(data), data=data)

    def count(self, etype: str, fulltext: Any, generic: Any) -> EntityEidCount:
        predicate = self._predicate(fulltext, generic)
        rows = self._scan(etype, self._indexed(etype, generic, fulltext))
        total = sum(1 for _, doc in rows if predicate is None or predicate(doc))
        return EntityEidCount(total_count=total)

    def distinct(self, etype: str, attr: str) -> dict[str, int]:
        spec = self.check_attr(etype, attr, "path")
        if (
            not isinstance(spec, AttrSpecClassic)
            or spec.data_type.kind is Kind.DICT
            or str(spec.data_type) in ("json", "special")
        ):
            raise HTTPException(
                400, f"Distinct values of '{attr}' are not supported (dict, json or timeseries)"
            )
        counts: Counter[str] = Counter()
        for _, doc in self._scan(etype):
            value = doc.get(attr)
            if value is None:
                continue
            for item in value if isinstance(value, list) else [value]:
                counts[item if isinstance(item, str) else json.dumps(item, sort_keys=True)] += 1
        return dict(counts.most_common())

    # One entity ------------------------------------------------------------------------

    def master(self, etype: str, eid: Any, t1: datetime | None, t2: datetime | None) -> Any:
        record = self.reads.record(etype, eid)
        if not record.exists and not record.attrs:
            return {}
        document = master_record(record, self.model)
        document.pop("_id", None)
        specs = self.model.entity_attributes[etype]
        for attr in list(document):
            if isinstance(specs.get(attr), AttrSpecTimeseries):
                document[attr] = _in_range(document[attr], t1, t2)
        return jsonable(document)

    def snapshots(
        self,
        etype: str,
        eid: Any,
        *,
        t1: datetime | None,
        t2: datetime | None,
        skip: int = 0,
        limit: int = 0,
    ) -> list[dict[str, Any]]:
        found = self.reads.snapshots(etype, eid, t1, t2)
        return _snapshot_documents(found[skip : skip + limit] if limit else found[skip:])

    def data(self, etype: str, eid: Any, t1: datetime | None, t2: datetime | None) -> EntityEidData:
        pending = self.reads.start_snapshots(etype, eid, t1, t2)  # while the record loads
        master = self.master(etype, eid, t1, t2)
        snapshots = _snapshot_documents(pending())
        return EntityEidData(
            empty=not master and not snapshots, master_record=master, snapshots=snapshots
        )

    def attr_value(
        self,
        etype: str,
        eid: Any,
        attr: str,
        *,
        where: str,
        t1: datetime | None,
        t2: datetime | None,
    ) -> EntityEidAttrValueOrHistory:
        spec = self.check_attr(etype, attr, where)
        master = self.master(etype, eid, None, None)
        stored = master.get(attr)
        if isinstance(spec, AttrSpecTimeseries):
            return EntityEidAttrValueOrHistory(
                attr_type=AttrType.TIMESERIES.value, history=_in_range(stored or [], t1, t2)
            )
        if isinstance(spec, AttrSpecObservations):
            latest = self.reads.latest_snapshot(etype, eid)
            return EntityEidAttrValueOrHistory(
                attr_type=AttrType.OBSERVATIONS.value,
                current_value=latest[1].get(attr) if latest else None,
                history=_in_range(stored or [], t1, t2),
            )
        return EntityEidAttrValueOrHistory(
            attr_type=AttrType.PLAIN.value,
            current_value=stored.get("v") if isinstance(stored, dict) else None,
        )

    # Writes (tasks through the input topic) ---------------------------------------------

    def set_value(
        self, etype: str, eid: Any, attr: str, *, where: str, body: Any, src: str
    ) -> None:
        spec = self.check_attr(etype, attr, where)
        if not isinstance(body, dict) or set(body) - {"value"}:
            raise validation_error(["body"], 'The body must be {"value": <JSON value>}')
        now = datetime.now(UTC)
        timed = not isinstance(spec, AttrSpecPlain)
        point = DataPoint(etype, eid, attr, body.get("value"), now if timed else None, None, None)
        point.src = src
        self._publish(DataPointTask(etype, eid, [point]), ["body", "value"])

    def extend_ttls(self, etype: str, eid: Any, body: dict[str, datetime]) -> None:
        tokens = {name: _aware(t) for name, t in body.items()}
        self._publish(DataPointTask(etype, eid, ttl_tokens=tokens), ["body"])

    def delete(self, etype: str, eid: Any) -> None:
        self._publish(DataPointTask(etype, eid, delete=True), ["path", "eid"])
        self.reads.drop_snapshots(etype, eid)

    def _publish(self, task: DataPointTask, loc: list[str | int]) -> None:
        from streamcore.errors import InvalidDataPointError

        publisher = self.services.publisher
        try:
            messages = publisher.encode([task])
        except InvalidDataPointError as exc:
            raise validation_error(loc, str(exc)) from exc
        publisher.publish(messages)


def parse_json_param(value: str | None, name: str) -> Any:
    """A JSON query parameter (``generic_filter``, ``fulltext_filters``); 422 if not JSON."""
    if value is None or value == "":
        return None
    try:
        return json.loads(value)
    except ValueError as exc:
        raise validation_error(["query", name], f"Invalid JSON: {exc}") from exc


def _in_range(history: list[Any], t1: datetime | None, t2: datetime | None) -> list[Any]:
    """Items overlapping ``[t1, t2]`` (times are ISO text after ``jsonable``)."""
    if t1 is None and t2 is None:
        return history
    low, high = _aware(t1) if t1 else _FAR_PAST, _aware(t2) if t2 else _FAR_FUTURE
    kept = []
    for item in history:
        start = _parse_time(item.get("t1")) or _FAR_PAST
        end = _parse_time(item.get("t2")) or start
        if end >= low and start <= high:
            kept.append(item)
    return kept


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, str):
        return _aware(datetime.fromisoformat(value))
    return None


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _row_key(attr: str, row: tuple[datetime, dict[str, Any]]) -> tuple[int, str, Any]:
    return _sort_key(row[1].get(attr))


def _sort_key(value: Any) -> tuple[int, str, Any]:
    """Missing values first, then by type, then by value (no cross-type comparisons)."""
    if value is None:
        return (0, "", 0)
    return (1, type(value).__name__, value)


__all__ = ["EntityService", "FilterError", "parse_json_param"]


def _snapshot_documents(found: list[tuple[datetime, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Stored snapshots as DP³ shows them (with ``_time_created``)."""
    return [{**values, "_time_created": time.isoformat()} for time, values in found]
