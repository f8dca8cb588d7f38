"""How a worker waits out trouble it can't fix: capped, jittered, bounded retries.

Two kinds of transient failure, one episode clock:

- a ``TransientError``: Cassandra timed out, unavailable or overloaded
  (``TransientStateError``), or the schema registry unreachable
  (``RegistryUnavailableError``): the batch in hand is retried as it is
  (``RetryPolicy.run``), its records stay the same;
- a Kafka transaction that failed without being fatal: the batch is rewound and polled
  again (the partitions may have moved), and ``RetryPolicy.failed`` waits before that.

Waits grow exponentially with jitter (tenacity's ``wait_exponential_jitter``) up to
``max_seconds``. An episode is logged once when it starts and once when it ends, with
counts, not once per attempt. When an episode outlasts ``budget_seconds`` the worker gives
up (``WorkerStalledError``): the process exits non-zero and Kubernetes restarts it with
its own backoff, rather than a worker that looks alive and does nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential_jitter

from streamcore.errors import RegistryUnavailableError, TransientError, WorkerStalledError
from streamcore.state.faults import is_transient

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_REASONS = ("state", "registry", "transaction")
"""The ``reason`` of a retried batch: a Cassandra state call, the schema registry, or a
Kafka transaction."""


class RetryPolicy:
    def __init__(
        self,
        stopping: threading.Event,
        *,
        initial_seconds: float = 0.5,
        max_seconds: float = 30.0,
        budget_seconds: float = 300.0,
        on_retry: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stopping = stopping
        self._wait = wait_exponential_jitter(multiplier=initial_seconds, max=max_seconds)
        self.budget_seconds = budget_seconds
        self._on_retry = on_retry
        self._clock = clock
        self._since: float | None = None
        self._attempts = 0
        self._last = ""

    def run(self, attempt: Callable[[], T]) -> T:
        """``attempt()``, retried on ``TransientError`` until it succeeds, the
        budget is spent (``WorkerStalledError``) or the worker stops (the error raises)."""
        retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            wait=self._wait,
            stop=self._give_up,
            sleep=self._sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            result = retrying(attempt)
        except TransientError as exc:
            if self._stopping.is_set():
                raise
            raise self._stalled(exc) from exc
        self.succeeded()
        return result

    def failed(self, reason: str, exc: BaseException) -> None:
        """A batch failed and will be polled again: count it, wait, or give up."""
        self._note(reason, exc)
        if self._over_budget():
            raise self._stalled(exc) from exc
        state = RetryCallState(None, None, (), {})  # type: ignore[arg-type]
        state.attempt_number = self._attempts
        self._sleep(self._wait(state))

    def succeeded(self) -> None:
        """A batch went through: the episode, if any, is over."""
        if self._since is not None:
            log.warning(
                "recovered after %d failed attempts in %.1f s (last: %s)",
                self._attempts,
                self._clock() - self._since,
                self._last,
            )
        self._since, self._attempts = None, 0

    @property
    def last_failure(self) -> str:
        """What the latest failed attempt raised, with its reason ("" when none yet)."""
        return self._last

    @property
    def failing_since(self) -> float | None:
        """When the current episode started (the policy's clock), None when healthy."""
        return self._since

    def _note(self, reason: str, exc: BaseException) -> None:
        self._attempts += 1
        self._last = f"{reason}: {exc}"
        if self._since is None:
            self._since = self._clock()
            log.warning("batch failed (%s), retrying with backoff: %s", reason, exc)
        else:
            log.debug("batch failed again (attempt %d): %s", self._attempts, exc)
        if self._on_retry is not None:
            self._on_retry(reason)

    def _before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        self._note(reason_of(exc), exc if exc is not None else RuntimeError("unknown"))

    def _give_up(self, _state: RetryCallState) -> bool:
        return self._stopping.is_set() or self._over_budget()

    def _over_budget(self) -> bool:
        return self._since is not None and self._clock() - self._since >= self.budget_seconds

    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _stalled(self, exc: BaseException) -> WorkerStalledError:
        elapsed = self._clock() - (self._since or self._clock())
        return WorkerStalledError(
            f"giving up after {self._attempts} failed attempts in {elapsed:.0f} s "
            f"(budget {self.budget_seconds:.0f} s): {exc}"
        )


def reason_of(exc: BaseException | None) -> str:
    """The ``RETRY_REASONS`` entry of a transient failure outside a transaction."""
    return "registry" if isinstance(exc, RegistryUnavailableError) else "state"


def is_retryable(exc: BaseException) -> bool:
    """A failure the same batch may get past later: a ``TransientError`` (the registry, a
    classified Cassandra error) or a driver error ``state.faults`` calls transient."""
    return isinstance(exc, TransientError) or is_transient(exc)
