"""The HTTP endpoint every streamcore process serves: ``/metrics``, ``/healthz``, ``/readyz``.

- ``/metrics``: the process's registry in Prometheus text format;
- ``/healthz`` (liveness): 200 while the process loop beats (``Health.beat``, e.g. the
  worker between batches) at least every ``liveness_seconds`` and no watched call (a hook,
  ``Health.watch_busy``) has run past its limit; 503 once it stalls, so Kubernetes
  restarts a wedged process;
- ``/readyz`` (readiness): 200 when every readiness check passes (connected; for a worker,
  partitions assigned; control topic caught up), else 503 listing the checks that fail.

The server runs in daemon threads (``ThreadingHTTPServer``) and only reads; the checks
must be cheap and thread-safe (reading attributes is). Port 0 in the settings turns the
server off (``serve_metrics`` returns None).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from streamcore.settings import MetricsSettings

log = logging.getLogger(__name__)

ReadinessCheck = Callable[[], str | None]
"""Returns None when ready, else why not (shown by ``/readyz``)."""


class Health:
    """The liveness heartbeat and the readiness checks of one process."""

    def __init__(self, liveness_seconds: float = 120.0) -> None:
        self.liveness_seconds = liveness_seconds
        self._beat = time.monotonic()
        self.checks: list[ReadinessCheck] = []
        self._busy: list[tuple[str, Callable[[], float | None], float]] = []

    def beat(self, at: float | None = None) -> None:
        """Called by the process loop every time round (cheap: one clock read); ``at``:
        when the loop last made progress (``time.monotonic()``), if not now."""
        self._beat = time.monotonic() if at is None else at

    def watch_busy(
        self, what: str, busy_since: Callable[[], float | None], limit_seconds: float
    ) -> None:
        """Not alive while ``busy_since()`` (a ``time.monotonic()`` start, None when idle)
        is more than ``limit_seconds`` ago. A call that can't be interrupted (a hook stuck
        in C code) stalls the loop too; this fails sooner than ``liveness_seconds`` and
        says ``what`` is stuck. ``busy_since`` is read on the HTTP thread: keep it cheap."""
        self._busy.append((what, busy_since, limit_seconds))

    def alive(self) -> str | None:
        now = time.monotonic()
        age = now - self._beat
        if age > self.liveness_seconds:
            return f"the process loop has not run for {age:.0f} s"
        for what, busy_since, limit in self._busy:
            since = busy_since()
            if since is not None and now - since > limit:
                return f"{what} has been running for {now - since:.0f} s (limit {limit:g} s)"
        return None

    def not_ready(self) -> list[str]:
        reasons = []
        for check in self.checks:
            try:
                reason = check()
            except Exception as exc:  # a broken check means "not ready", not a 500
                reason = f"{getattr(check, '__name__', check)}: {exc}"
            if reason:
                reasons.append(reason)
        return reasons


class MetricsServer:
    """Serves ``registry`` and ``health`` on ``host:port`` (port 0: any free port)."""

    def __init__(
        self, registry: CollectorRegistry, health: Health, host: str = "0.0.0.0", port: int = 0
    ) -> None:
        self.registry = registry
        self.health = health
        self._httpd = ThreadingHTTPServer((host, port), _handler(self))
        self._httpd.daemon_threads = True
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="metrics-http", daemon=True
        )

    def start(self) -> MetricsServer:
        self._thread.start()
        log.info("serving /metrics, /healthz and /readyz on port %d", self.port)
        return self

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def respond(self, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a GET of ``path``."""
        route = path.split("?", 1)[0]
        if route == "/metrics":
            return 200, CONTENT_TYPE_LATEST, generate_latest(self.registry)
        if route == "/healthz":
            problem = self.health.alive()
            return (503, "text/plain", f"{problem}\n".encode()) if problem else _ok()
        if route == "/readyz":
            reasons = self.health.not_ready()
            if reasons:
                return 503, "text/plain", ("\n".join(reasons) + "\n").encode()
            return _ok()
        return 404, "text/plain", b"not found: try /metrics, /healthz or /readyz\n"


def serve_metrics(
    settings: MetricsSettings, registry: CollectorRegistry, health: Health
) -> MetricsServer | None:
    """Start the endpoint on ``settings.host:settings.port``; None when the port is 0.

    A port that can't be bound (another process has it) is logged as an error and the
    process runs on without the endpoint: its probes then fail, which is where it shows.
    """
    if settings.port == 0:
        log.info("metrics endpoint disabled (port 0)")
        return None
    try:
        server = MetricsServer(registry, health, settings.host, settings.port)
    except OSError as exc:
        log.error("metrics endpoint on %s:%d unavailable: %s", settings.host, settings.port, exc)
        return None
    return server.start()


def _ok() -> tuple[int, str, bytes]:
    return 200, "text/plain", b"ok\n"


def _handler(server: MetricsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            status, content_type, body = server.respond(self.path)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Scrapes every few seconds would flood the log."""

    return Handler
