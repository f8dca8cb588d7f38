"""The FastAPI application: DP³'s routes plus streamcore's health, metrics and guards.

``create_app(services)`` wires, in this order: the request-size bound (413, before a body
is parsed), the per-request JSON log line with a request id and the route metrics, CORS,
and the error mapping: a server that can't be reached (``TransientStateError``,
``PublishError``) or an application not set up yet (``NotSetUpError``: every data route
depends on ``require_set_up``) is a 503 with ``{"detail": ...}``, never a 500.
"""

from __future__ import annotations

import hmac
import itertools
import json
import logging
import time
import uuid
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from streamcore.api.filters import FilterError
from streamcore.api.publisher import PublishError
from streamcore.api.services import ApiServices, NotSetUpError
from streamcore.errors import StateError

access_log = logging.getLogger("streamcore.api.access")


class ApiMetrics:
    """Request count and latency per route, data-points produced (a registry per app)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "streamcore_api_requests_total",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "streamcore_api_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["route"],
            registry=registry,
        )
        self.datapoints = Counter(
            "streamcore_api_datapoints_produced_total",
            "Data-points acknowledged by Kafka through POST /datapoints and set/<attr>.",
            registry=registry,
        )
        self.raw_dropped = Counter(
            "streamcore_api_raw_dropped_total",
            "Raw data-point copies not archived (archive queue full or Cassandra failing).",
            registry=registry,
        )


class BodyLimit:
    """Refuses a request body over ``limit`` bytes with 413 (``Content-Length`` or counted)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": f"Request body over {self.limit} bytes"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


_REQUESTS = itertools.count(1)
_PROCESS = uuid.uuid4().hex[:16]


def new_request_id() -> str:
    """Unique across processes (a random prefix per process) and cheap (a counter: a
    ``uuid4`` per request cost 3% of the API's CPU under load)."""
    return f"{_PROCESS}{next(_REQUESTS):016x}"


class AccessLog:
    """Per request: the request id (``X-Request-ID``, or a new one, sent back), the route
    metrics and one JSON log line. Plain ASGI (no response buffering), outermost, so a 413
    from ``BodyLimit`` is logged and counted too."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        request_id = request.headers.get("x-request-id") or new_request_id()
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            template = route_template(request)
            self.metrics.requests.labels(template, request.method, str(status)).inc()
            self.metrics.latency.labels(template).observe(elapsed)
            access_log.info(
                json.dumps(
                    {
                        "request_id": request_id,
                        "method": request.method,
                        "path": request.url.path,
                        "route": template,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "client": request.client.host if request.client else None,
                    }
                )
            )


def route_template(request: Request) -> str:
    """The matched route's path template with its router's prefix (``/entity/{etype}/get``):
    a bounded metric label. The route knows only its own part; the prefix (literal, no
    parameters) is the request path's leading segments before it."""
    route = request.scope.get("route")
    own = getattr(route, "path", None)
    if own is None:
        return "unmatched"
    own_parts = own.split("/")
    path, root = request.url.path, request.scope.get("root_path", "")
    path_parts = (path[len(root) :] if root and path.startswith(root) else path).split("/")
    prefix = path_parts[: max(1, len(path_parts) - len(own_parts) + 1)]
    return "/".join(prefix + own_parts[1:])


def token_guard(services: ApiServices) -> Any:
    """A dependency: with ``api.token`` set, writes and control need ``Bearer <token>``."""
    secret = services.settings.api.token

    async def require_token(request: Request) -> None:
        if secret is None:
            return
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), secret.get_secret_value().encode()
        ):
            raise HTTPException(
                status_code=401,
                detail="Missing or wrong API token",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return Depends(require_token)


def set_up_guard(services: ApiServices) -> Any:
    """A dependency: 503 naming what is missing until ``streamcore setup`` ran (checked
    by the readiness thread; here only a flag is read)."""

    async def require_set_up() -> None:
        services.require_set_up()

    return Depends(require_set_up)


def create_app(services: ApiServices, registry: CollectorRegistry | None = None) -> FastAPI:
    from streamcore.api.routers import control, entity, root, telemetry

    settings = services.settings.api
    app = FastAPI(
        title="streamcore",
        description="DP³'s HTTP API served from Kafka and Cassandra.",
        root_path=settings.root_path,
    )
    app.state.services = services
    metrics = ApiMetrics(registry or CollectorRegistry())
    app.state.metrics = metrics
    services.archive.on_drop = metrics.raw_dropped.inc
    guard = token_guard(services)
    set_up = set_up_guard(services)

    app.include_router(
        entity.v2_router(services, metrics, guard), prefix="/v2/entity", dependencies=[set_up]
    )
    app.include_router(
        entity.v1_router(services, metrics, guard), prefix="/entity", dependencies=[set_up]
    )
    app.include_router(
        control.router(services, guard),
        prefix="/control",
        tags=["Control"],
        dependencies=[set_up],
    )
    app.include_router(
        telemetry.router(services), prefix="/telemetry", tags=["Telemetry"], dependencies=[set_up]
    )
    app.include_router(root.router(services, metrics, guard, set_up))

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"detail": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        problems = services.readiness.problems()
        if problems:
            return JSONResponse({"detail": problems}, status_code=503)
        return JSONResponse({"detail": "ready"})

    @app.exception_handler(StateError)
    async def state_error(_request: Request, exc: StateError) -> JSONResponse:
        return JSONResponse({"detail": f"Cassandra unavailable: {exc}"}, status_code=503)

    @app.exception_handler(NotSetUpError)
    async def not_set_up(_request: Request, exc: NotSetUpError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(PublishError)
    async def publish_error(_request: Request, exc: PublishError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(FilterError)
    async def filter_error(_request: Request, exc: FilterError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    app.add_middleware(BodyLimit, limit=settings.max_request_bytes)
    app.add_middleware(AccessLog, metrics=metrics)
    return app
