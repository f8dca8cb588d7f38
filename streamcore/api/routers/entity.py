"""``/entity/<etype>/...`` (v1, eid in the path) and ``/v2/entity/<etype>?eid=`` (v2).

The listing routes come first, so ``get``, ``count`` and ``raw`` are never read as an eid.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.params import Depends
from pydantic import NonNegativeInt

from streamcore.api.app import ApiMetrics
from streamcore.api.entities import EntityService, parse_json_param
from streamcore.api.models import (
    EntityEidAttrValueOrHistory,
    EntityEidCount,
    EntityEidData,
    EntityEidList,
    EntityRawDataPage,
    ErrorResponse,
    SuccessResponse,
)
from streamcore.api.services import ApiServices

_BAD_QUERY: dict[int | str, dict[str, Any]] = {
    400: {"description": "Query can't be processed", "model": ErrorResponse}
}
EidQuery = Annotated[str, Query(description="Entity ID")]
AttrQuery = Annotated[str, Query(description="Attribute name")]
SortParam = Annotated[
    list[str] | None, Query(description="e.g. hostname:-1 for descending sort by hostname")
]


def _listing_routes(api: APIRouter, service: EntityService, prefix: str) -> None:
    @api.get("/{etype}/get", name=f"{prefix}get_entity_type_eids", responses=_BAD_QUERY)
    def get_entity_type_eids(
        etype: str,
        fulltext_filters: str | None = None,
        generic_filter: str | None = None,
        skip: NonNegativeInt = 0,
        limit: NonNegativeInt = 20,
        sort: SortParam = None,
    ) -> EntityEidList:
        """Latest snapshots of the type's entities, filtered, sorted and paged (limit 0:
        all). ``fulltext_filters``: attribute -> regular expression; ``generic_filter``:
        DP³'s MongoDB-style filter ($and $or $nor $not $eq $ne $lt $lte $gt $gte $in $nin
        $regex $exists, magic strings such as $$IPv4Prefix{10.0.0.0/8})."""
        service.check_etype(etype)
        return service.listing(
            etype,
            fulltext=parse_json_param(fulltext_filters, "fulltext_filters"),
            generic=parse_json_param(generic_filter, "generic_filter"),
            skip=skip,
            limit=limit,
            sort=sort,
        )

    @api.get("/{etype}/count", name=f"{prefix}count_entity_type_eids", responses=_BAD_QUERY)
    def count_entity_type_eids(
        etype: str, fulltext_filters: str | None = None, generic_filter: str | None = None
    ) -> EntityEidCount:
        """How many latest snapshots match the filters (see ``/get``)."""
        service.check_etype(etype)
        return service.count(
            etype,
            parse_json_param(fulltext_filters, "fulltext_filters"),
            parse_json_param(generic_filter, "generic_filter"),
        )

    @api.get(
        "/{etype}/raw/get", name=f"{prefix}get_entity_type_raw_datapoints", responses=_BAD_QUERY
    )
    def get_entity_type_raw_datapoints(
        etype: str,
        eid: str | None = None,
        attr: str | None = None,
        src: str | None = None,
        skip: NonNegativeInt = 0,
        limit: NonNegativeInt = 20,
    ) -> EntityRawDataPage:
        """Raw data-points as they arrived, for troubleshooting ingestion."""
        service.check_etype(etype)
        if attr is not None:
            service.check_attr(etype, attr, "query")
        parsed = service.parse_eid(etype, eid, "query") if eid is not None else None
        rows = service.reads.raw(
            etype,
            parsed,
            attr=attr,
            src=src,
            skip=skip,
            limit=limit,
            scan_limit=service.scan_limit,
            days=service.raw_days,
        )
        return EntityRawDataPage(count=len(rows), data=rows)

    @api.get(
        "/{etype}/_/distinct/{attr}",
        name=f"{prefix}get_distinct_attribute_values",
        responses=_BAD_QUERY,
    )
    def get_distinct_attribute_values(etype: str, attr: str) -> dict[str, int]:
        """Distinct values of an attribute in the latest snapshots, with their counts."""
        service.check_etype(etype)
        return service.distinct(etype, attr)


def v1_router(services: ApiServices, metrics: ApiMetrics, guard: Depends) -> APIRouter:
    service = EntityService(services)
    api = APIRouter(tags=["Entity"])
    _listing_routes(api, service, "")

    @api.get("/{etype}", deprecated=True, responses=_BAD_QUERY)
    def list_entity_type_eids(
        etype: str,
        fulltext_filters: str | None = None,
        generic_filter: str | None = None,
        skip: NonNegativeInt = 0,
        limit: NonNegativeInt = 20,
    ) -> EntityEidList:
        """DP³ 0.10's listing with ``total_count`` (deprecated there too: use ``/get`` and
        ``/count``; this one reads every latest snapshot of the type)."""
        service.check_etype(etype)
        fulltext = parse_json_param(fulltext_filters, "fulltext_filters")
        generic = parse_json_param(generic_filter, "generic_filter")
        page = service.listing(
            etype, fulltext=fulltext, generic=generic, skip=skip, limit=limit, sort=None
        )
        page.total_count = service.count(etype, fulltext, generic).total_count
        return page

    @api.get("/{etype}/{eid}")
    def get_eid_data(
        etype: str, eid: str, date_from: datetime | None = None, date_to: datetime | None = None
    ) -> EntityEidData:
        """Master record and snapshots (oldest first) of one entity."""
        return service.data(etype, service.parse_eid(etype, eid, "path"), date_from, date_to)

    @api.get("/{etype}/{eid}/master")
    def get_eid_master_record(
        etype: str, eid: str, date_from: datetime | None = None, date_to: datetime | None = None
    ) -> dict[str, Any]:
        """The master record of one entity."""
        parsed = service.parse_eid(etype, eid, "path")
        result: dict[str, Any] = service.master(etype, parsed, date_from, date_to)
        return result

    @api.get("/{etype}/{eid}/snapshots")
    def get_eid_snapshots(
        etype: str,
        eid: str,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        skip: NonNegativeInt = 0,
        limit: NonNegativeInt = 0,
    ) -> list[dict[str, Any]]:
        """Snapshots of one entity, oldest first, paged (limit 0: all)."""
        parsed = service.parse_eid(etype, eid, "path")
        return service.snapshots(etype, parsed, t1=date_from, t2=date_to, skip=skip, limit=limit)

    @api.get("/{etype}/{eid}/get/{attr}")
    def get_eid_attr_value(
        etype: str,
        eid: str,
        attr: str,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
    ) -> EntityEidAttrValueOrHistory:
        """Current value (plain), current value and history (observations) or history
        (timeseries) of one attribute."""
        parsed = service.parse_eid(etype, eid, "path")
        return service.attr_value(etype, parsed, attr, where="path", t1=date_from, t2=date_to)

    @api.post("/{etype}/{eid}/set/{attr}", dependencies=[guard])
    async def set_eid_attr_value(
        etype: str, eid: str, attr: str, request: Request
    ) -> SuccessResponse:
        """Set an attribute's current value: a data-point through the input topic."""
        parsed = service.parse_eid(etype, eid, "path")
        body = await _json_body(request)
        await _threaded(
            partial(service.set_value, where="path", body=body, src=_src(request)),
            etype,
            parsed,
            attr,
        )
        metrics.datapoints.inc()
        return SuccessResponse()

    @api.post("/{etype}/{eid}/ttl", dependencies=[guard])
    def extend_eid_ttls(etype: str, eid: str, body: dict[str, datetime]) -> SuccessResponse:
        """Extend the entity's TTL tokens (a task through the input topic)."""
        service.extend_ttls(etype, service.parse_eid(etype, eid, "path"), body)
        return SuccessResponse()

    @api.delete("/{etype}/{eid}", dependencies=[guard])
    def delete_eid_record(etype: str, eid: str) -> SuccessResponse:
        """Delete the entity's master record (a delete task) and its snapshots."""
        service.delete(etype, service.parse_eid(etype, eid, "path"))
        return SuccessResponse()

    return api


def v2_router(services: ApiServices, metrics: ApiMetrics, guard: Depends) -> APIRouter:
    service = EntityService(services)
    api = APIRouter(tags=["Entity v2"])
    _listing_routes(api, service, "v2_")

    @api.get("/{etype}", include_in_schema=False)
    @api.get("/{etype}/")
    def v2_get_eid_data(
        etype: str,
        eid: EidQuery,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
    ) -> EntityEidData:
        """Master record and snapshots of one entity (eid in the query: may contain '/')."""
        return service.data(etype, service.parse_eid(etype, eid, "query"), date_from, date_to)

    @api.get("/{etype}/master")
    def v2_get_eid_master_record(
        etype: str,
        eid: EidQuery,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
    ) -> dict[str, Any]:
        parsed = service.parse_eid(etype, eid, "query")
        result: dict[str, Any] = service.master(etype, parsed, date_from, date_to)
        return result

    @api.get("/{etype}/snapshots")
    def v2_get_eid_snapshots(
        etype: str,
        eid: EidQuery,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        skip: NonNegativeInt = 0,
        limit: NonNegativeInt = 0,
    ) -> list[dict[str, Any]]:
        parsed = service.parse_eid(etype, eid, "query")
        return service.snapshots(etype, parsed, t1=date_from, t2=date_to, skip=skip, limit=limit)

    @api.get("/{etype}/attr")
    def v2_get_eid_attr_value(
        etype: str,
        eid: EidQuery,
        attr: AttrQuery,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
    ) -> EntityEidAttrValueOrHistory:
        parsed = service.parse_eid(etype, eid, "query")
        return service.attr_value(etype, parsed, attr, where="query", t1=date_from, t2=date_to)

    @api.post("/{etype}/attr", dependencies=[guard])
    async def v2_set_eid_attr_value(
        etype: str,
        eid: EidQuery,
        attr: AttrQuery,
        request: Request,
    ) -> SuccessResponse:
        parsed = service.parse_eid(etype, eid, "query")
        body = await _json_body(request)
        await _threaded(
            partial(service.set_value, where="query", body=body, src=_src(request)),
            etype,
            parsed,
            attr,
        )
        metrics.datapoints.inc()
        return SuccessResponse()

    @api.post("/{etype}/ttl", dependencies=[guard])
    def v2_extend_eid_ttls(etype: str, eid: EidQuery, body: dict[str, datetime]) -> SuccessResponse:
        service.extend_ttls(etype, service.parse_eid(etype, eid, "query"), body)
        return SuccessResponse()

    @api.delete("/{etype}", include_in_schema=False, dependencies=[guard])
    @api.delete("/{etype}/", dependencies=[guard])
    def v2_delete_eid_record(etype: str, eid: EidQuery) -> SuccessResponse:
        service.delete(etype, service.parse_eid(etype, eid, "query"))
        return SuccessResponse()

    return api


async def _json_body(request: Request) -> Any:
    from streamcore.api.routers.root import validation_error

    try:
        return await request.json()
    except ValueError as exc:
        raise validation_error(["body"], f"Invalid JSON: {exc}") from exc


async def _threaded(function: Any, *args: Any) -> None:
    """A blocking call (Kafka acknowledgement, Cassandra) off the event loop."""
    from starlette.concurrency import run_in_threadpool

    await run_in_threadpool(function, *args)


def _src(request: Request) -> str:
    host = request.client.host if request.client else "unknown"
    return f"{host} via API"
