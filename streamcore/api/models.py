"""Request and response bodies, in DP³'s shapes (``dp3/api/internal/*models.py``).

Values inside responses (snapshots, master records) are whatever the entity model holds,
so they are typed ``Any``; the routes build them with ``jsonable`` and the OpenAPI schema
still tells a client the envelope.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class DataPointIn(BaseModel):
    """One data-point of ``POST /datapoints`` (DP³'s API names: ``type``, ``id``)."""

    type: str
    id: Any
    attr: str
    v: Any
    t1: datetime | None = None
    t2: datetime | None = None
    c: float | None = Field(default=None, ge=0.0, le=1.0)
    src: str | None = None


class HealthCheckResponse(BaseModel):
    detail: str = "It works!"


class SuccessResponse(BaseModel):
    detail: str = "OK"


class ErrorResponse(BaseModel):
    detail: str


class ControlResponse(SuccessResponse):
    """DP³'s ``{"detail": "Action sent."}``, plus which replicas acknowledged (streamcore)."""

    acknowledged: list[str] = []
    missing: list[str] = []
    failed: list[str] = []


class EntityState(BaseModel):
    id: str
    id_data_type: str
    name: str
    attribs: dict[str, dict[str, Any]]
    eid_estimate_count: int


class EntityEidList(BaseModel):
    """``total_count``: DP³ 0.10's field, always 0 here as there (``/count`` counts); only
    the deprecated ``GET /entity/<etype>`` fills it."""

    time_created: datetime | None = None
    count: int
    total_count: int = 0
    data: list[dict[str, Any]]


class EntityEidCount(BaseModel):
    total_count: int


class EntityRawDataPage(BaseModel):
    count: int
    data: list[dict[str, Any]]


class EntityEidData(BaseModel):
    empty: bool
    master_record: dict[str, Any]
    snapshots: list[dict[str, Any]]


class EntityEidAttrValueOrHistory(BaseModel):
    attr_type: int
    current_value: Any = None
    history: list[dict[str, Any]] = []


class EntityEidAttrValue(BaseModel):
    value: Any = None
