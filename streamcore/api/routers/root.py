"""``GET /`` (health), ``POST /datapoints`` (ingestion), ``GET /entities`` (entity types)."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.params import Depends
from pydantic import TypeAdapter, ValidationError

from streamcore.api.app import ApiMetrics
from streamcore.api.models import DataPointIn, EntityState, HealthCheckResponse, SuccessResponse
from streamcore.api.publisher import plan_tasks
from streamcore.api.services import ApiServices
from streamcore.errors import InvalidDataPointError, LimitExceededError
from streamcore.model.datapoint import DataPoint
from streamcore.model.spec import AttrSpecObservations, AttrSpecTimeseries, SpecModel

log = logging.getLogger(__name__)


def validation_error(loc: list[str | int], message: str, status: int = 422) -> HTTPException:
    """FastAPI's 422 body (``{"detail": [{"loc", "msg", "type"}]}``), as DP³ answers."""
    return HTTPException(status, [{"loc": loc, "msg": message, "type": "value_error"}])


def attribute_json(spec: SpecModel) -> dict[str, Any]:
    """An attribute's configuration as DP³'s ``/entities`` shows it (data types as text)."""
    out: dict[str, Any] = {}
    for name, value in spec:
        if name in ("history_params", "timeseries_params") and value is not None:
            out[name] = {k: _plain(v) for k, v in value}
        elif name == "series":
            out[name] = {k: {"data_type": str(s.data_type)} for k, s in value.items()}
        else:
            out[name] = _plain(value)
    if isinstance(spec, AttrSpecObservations | AttrSpecTimeseries):
        out["type"] = spec.type
    return out


def _plain(value: Any) -> Any:
    from datetime import timedelta

    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, timedelta):
        return value.total_seconds()
    return str(value)


DATAPOINTS = TypeAdapter(list[DataPointIn])
"""``POST /datapoints``' body, validated as one array (not item by item)."""
DATAPOINTS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": DataPointIn.model_json_schema()}
            }
        },
    }
}
"""The body's schema in OpenAPI (the route reads the body itself; ``DataPointIn`` has no
nested models, so its schema is complete inline)."""
OK_BODY = orjson.dumps({"detail": "OK"})


def parse_datapoints(body: bytes) -> list[DataPointIn]:
    """The data-points of a request body (parsed and validated in one pass, in pydantic's
    core), or FastAPI's own 422 (``json_invalid`` with its position; else each invalid
    field's ``loc`` under ``body``), as DP³ answers."""
    if not body:
        missing = {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}
        raise RequestValidationError([missing], body=None)
    try:
        return DATAPOINTS.validate_json(body)
    except ValidationError as exc:
        invalid = exc
    try:  # the error as FastAPI words it: parse again to tell bad JSON from bad items
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        error = {
            "type": "json_invalid",
            "loc": ("body", exc.pos),
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": exc.msg},
        }
        raise RequestValidationError([error], body=body) from None
    errors = [
        {**error, "loc": ("body", *error["loc"])} for error in invalid.errors(include_url=False)
    ]
    raise RequestValidationError(errors, body=decoded) from None


def router(
    services: ApiServices, metrics: ApiMetrics, guard: Depends, set_up: Depends
) -> APIRouter:
    api = APIRouter()
    model = services.config.model_spec
    publisher = services.publisher

    @api.get("/", tags=["Health"])
    def health_check() -> HealthCheckResponse:
        """Health check: a simple 'It works!' response."""
        return HealthCheckResponse()

    @api.post(
        "/datapoints",
        tags=["Data ingestion"],
        dependencies=[guard, set_up],
        response_model=SuccessResponse,
        openapi_extra=DATAPOINTS_BODY,
    )
    async def insert_datapoints(request: Request) -> Response:
        """Validate every data-point, then produce one task per entity to the input topic.

        Answers after Kafka acknowledged them all (503 when it can't in time); one invalid
        data-point refuses the whole request (422 naming its index and field)."""
        dps = parse_datapoints(await request.body())
        points = [
            DataPoint(dp.type, dp.id, dp.attr, dp.v, dp.t1, dp.t2, dp.c, dp.src) for dp in dps
        ]
        tasks, problem = plan_tasks(model, publisher.validator, points)
        if problem is not None:
            loc: list[str | int] = ["body", problem.index, problem.field]
            raise validation_error(loc, problem.message)
        try:
            messages = publisher.encode(tasks, checked=True)
        except LimitExceededError as exc:
            raise validation_error(["body"], str(exc), 413) from exc
        except InvalidDataPointError as exc:
            raise validation_error(["body"], str(exc)) from exc
        await publisher.publish_async(messages)
        metrics.datapoints.inc(len(points))
        services.archive.add(points)  # written off the request path (api/archive.py)
        return Response(OK_BODY, media_type="application/json")

    @api.get("/entities", tags=["Entity"], dependencies=[set_up])
    def list_entity_types() -> dict[str, EntityState]:
        """Entity types: their configuration and an estimate of their entity count."""
        return {
            etype: EntityState(
                id=etype,
                id_data_type=str(spec.id_data_type),
                name=spec.name,
                attribs={
                    attr: attribute_json(a) for attr, a in model.entity_attributes[etype].items()
                },
                eid_estimate_count=services.reads.count_entities(etype),
            )
            for etype, spec in model.entities.items()
        }

    return api
