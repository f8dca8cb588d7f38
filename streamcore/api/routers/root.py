"""``GET /`` (health), ``POST /datapoints`` (ingestion), ``GET /entities`` (entity types)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.params import Depends

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

    @api.post("/datapoints", tags=["Data ingestion"], dependencies=[guard, set_up])
    def insert_datapoints(dps: list[DataPointIn], request: Request) -> SuccessResponse:
        """Validate every data-point, then produce one task per entity to the input topic.

        Answers after Kafka acknowledged them all (503 when it can't in time); one invalid
        data-point refuses the whole request (422 naming its index and field)."""
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
        publisher.publish(messages)
        metrics.datapoints.inc(len(points))
        services.archive.add(points)  # written off the request path (api/archive.py)
        return SuccessResponse()

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
