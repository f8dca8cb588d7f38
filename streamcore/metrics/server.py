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

Exposure: it binds ``MetricsSettings.host``, loopback unless set (a pod sets 0.0.0.0).
With credentials configured (``EndpointAuth``: basic and/or bearer), ``/metrics`` answers
401 with ``WWW-Authenticate`` without them; ``/healthz`` and ``/readyz`` stay open, since
Kubernetes probes carry no credentials, but then say only ``ok``/``unavailable``/``not
ready``: why a process is unhealthy is shown to authenticated requests alone.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
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


Response = tuple[int, str, bytes, dict[str, str]]
"""(status, content type, body, extra headers)."""


@dataclass(frozen=True)
class EndpointAuth:
    """The credentials ``/metrics`` needs: basic (user, password), a bearer token, or both."""

    username: str | None = None
    password: str | None = None
    token: str | None = None

    @classmethod
    def from_settings(cls, settings: MetricsSettings) -> EndpointAuth | None:
        if settings.password is None and settings.token is None:
            return None
        return cls(
            settings.username,
            settings.password.get_secret_value() if settings.password else None,
            settings.token.get_secret_value() if settings.token else None,
        )

    def challenges(self) -> list[str]:
        """The ``WWW-Authenticate`` values of a 401."""
        schemes = ["Basic"] if self.password is not None else []
        schemes += ["Bearer"] if self.token is not None else []
        return [f'{scheme} realm="streamcore"' for scheme in schemes]

    def allows(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header value carries the credentials.

        Compared with ``hmac.compare_digest`` so the time taken tells nothing of them.
        """
        scheme, _, value = (authorization or "").strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer" and self.token is not None:
            return hmac.compare_digest(value.encode(), self.token.encode())
        if scheme.lower() == "basic" and self.password is not None:
            try:
                decoded = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                return False
            user, _, password = decoded.partition(b":")
            user_ok = hmac.compare_digest(user, (self.username or "").encode())
            password_ok = hmac.compare_digest(password, self.password.encode())
            return user_ok & password_ok
        return False


class MetricsServer:
    """Serves ``registry`` and ``health`` on ``host:port`` (port 0: any free port)."""

    def __init__(
        self,
        registry: CollectorRegistry,
        health: Health,
        host: str = "127.0.0.1",
        port: int = 0,
        auth: EndpointAuth | None = None,
    ) -> None:
        self.registry = registry
        self.health = health
        self.auth = auth
        self._httpd = ThreadingHTTPServer((host, port), _handler(self))
        self._httpd.daemon_threads = True
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="metrics-http", daemon=True
        )

    def start(self) -> MetricsServer:
        self._thread.start()
        host = self._httpd.server_address[0]
        guarded = "with authentication" if self.auth else "without authentication"
        log.info("serving /metrics, /healthz and /readyz on %s:%d (%s)", host, self.port, guarded)
        return self

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def respond(self, path: str, authorization: str | None = None) -> Response:
        """The answer to a GET of ``path`` with that ``Authorization`` header (or none)."""
        route = path.split("?", 1)[0]
        trusted = self.auth is None or self.auth.allows(authorization)
        if route == "/metrics":
            if not trusted:
                return _unauthorized(self.auth)
            return 200, CONTENT_TYPE_LATEST, generate_latest(self.registry), {}
        if route == "/healthz":
            problem = self.health.alive()
            if problem:
                return _text(503, problem if trusted else "unavailable")
            return _text(200, "ok")
        if route == "/readyz":
            reasons = self.health.not_ready()
            if reasons:
                return _text(503, "\n".join(reasons) if trusted else "not ready")
            return _text(200, "ok")
        return _text(404, "not found: try /metrics, /healthz or /readyz")


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
    auth = EndpointAuth.from_settings(settings)
    try:
        server = MetricsServer(registry, health, settings.host, settings.port, auth)
    except OSError as exc:
        log.error("metrics endpoint on %s:%d unavailable: %s", settings.host, settings.port, exc)
        return None
    return server.start()


def _text(status: int, text: str) -> Response:
    return status, "text/plain", f"{text}\n".encode(), {}


def _unauthorized(auth: EndpointAuth | None) -> Response:
    challenges = auth.challenges() if auth else []
    return 401, "text/plain", b"unauthorized\n", {"WWW-Authenticate": ", ".join(challenges)}


def _handler(server: MetricsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            authorization = self.headers.get("Authorization")
            status, content_type, body, headers = server.respond(self.path, authorization)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Scrapes every few seconds would flood the log."""

    return Handler
