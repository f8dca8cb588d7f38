"""The exceptions streamcore raises, all under one root.

::

    StreamcoreError
    ├── ConfigError             configuration directory or settings are wrong (start-up)
    ├── DataPointError          one data-point or task is unusable (goes to the dead-letter topic)
    │   ├── DecodeError         the bytes are not a task we can read
    │   ├── InvalidDataPointError  decoded, but breaks the entity model
    │   │   ├── LimitExceededError     over a configured size limit (``LimitsSettings``)
    │   │   └── ExpiredDataPointError  already past its ``max_age``: it would never be stored
    │   └── HookTimeoutError    a hook ran past its time budget on the task
    ├── ModuleError             a module failed to load or registered hooks wrongly (start-up)
    │   ├── ModuleLoadError     import, discovery, configuration or construction failed
    │   └── HookRegistrationError  a registrar call was refused (also a ValueError, as in DP³)
    │       ├── UnknownHookTargetError  unknown hook kind, entity type or attribute
    │       ├── HookTargetKindError     the attribute's kind does not fit the hook
    │       ├── DuplicateHookError      the same callback twice in the same context
    │       └── HookCycleError          correlation hooks that depend on each other
    ├── TransientError          a server the batch needs can't answer now: retried with backoff
    ├── StateError              Cassandra rejected or failed a read/write
    │   ├── TransientStateError     a TransientError (timeouts, unavailable, overloaded)
    │   └── PermanentStateError     retrying won't help (rejected statement, bad value)
    ├── WorkerStalledError      transient failures outlasted the retry budget: exit, restart
    ├── SchemaRegistryError     the schema registry refused a schema or could not be reached
    │   └── RegistryUnavailableError  a TransientError: unreachable, or failed (5xx)
    └── DevServerError          the local development servers could not be set up or run

A ``DataPointError`` may carry the raw Kafka record it came from, so the dead-letter writer
needs nothing else to keep the original bytes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RawRecord:
    """Where a bad message came from, and its untouched bytes."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class StreamcoreError(Exception):
    """Root of every streamcore exception."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong in the configuration: which file, where in it, and what."""

    file: str
    key_path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key_path}" if self.key_path else self.file
        return f"{where}: {self.message}"


class ConfigError(StreamcoreError):
    """The configuration is invalid; raised at start-up with every problem listed."""

    def __init__(self, problems: list[ConfigProblem] | str) -> None:
        if isinstance(problems, str):
            problems = [ConfigProblem("", "", problems)]
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class DataPointError(StreamcoreError):
    """A data-point or task that can't be processed; ``reason`` is a short stable code."""

    reason = "invalid"

    def __init__(self, message: str, record: RawRecord | None = None) -> None:
        super().__init__(message)
        self.record = record


class DecodeError(DataPointError):
    """The bytes are not a task in any schema we know."""

    reason = "undecodable"


class InvalidDataPointError(DataPointError):
    """A decoded data-point breaks the entity model (unknown attribute, bad value, ...)."""

    reason = "invalid_data_point"


class HookTimeoutError(DataPointError):
    """An ingestion hook ran past its time budget on a task and was interrupted.

    Raised out of the hook engine (unlike other hook failures, which fall back and go
    on), so the worker dead-letters the task rather than applying it half-hooked.
    """

    reason = "hook_timeout"

    def __init__(
        self,
        module: str,
        hook: str,
        kind: str,
        budget: float,
        target: str,
        *,
        record: RawRecord | None = None,
    ) -> None:
        super().__init__(
            f"hook {hook} ({kind}) of module {module} ran past its time budget of "
            f"{budget:g} s on {target}",
            record,
        )
        self.module = module
        self.hook = hook
        self.kind = kind
        self.budget = budget


class LimitExceededError(InvalidDataPointError):
    """A message, task or value is over a configured limit (``streamcore.model.limits``)."""

    reason = "limit_exceeded"


class ExpiredDataPointError(InvalidDataPointError):
    """A data-point whose ``t2 + max_age`` is already past: storing it would drop it."""

    reason = "expired"


class ModuleError(StreamcoreError):
    """A module could not be loaded or registered its hooks wrongly."""


class ModuleLoadError(ModuleError):
    """A module could not be imported, found, configured or constructed; names module and cause."""


class HookRegistrationError(ModuleError, ValueError):
    """A registrar call was refused. A ``ValueError`` too, as DP³ modules expect."""


class UnknownHookTargetError(HookRegistrationError):
    """The hook kind, entity type or attribute does not exist."""


class HookTargetKindError(HookRegistrationError):
    """The attribute exists but its kind does not fit the hook (e.g. timeseries hooks)."""


class DuplicateHookError(HookRegistrationError):
    """The same callback was registered twice for the same hook kind and target."""


class HookCycleError(HookRegistrationError):
    """Correlation hooks whose ``depends_on``/``may_change`` form a cycle."""


class TransientError(StreamcoreError):
    """A server the batch needs could not answer now, through no fault of the records: the
    same batch may succeed later, so it is retried with backoff and nothing is committed or
    dead-lettered meanwhile (``batch.retry.RetryPolicy``)."""


class StateError(StreamcoreError):
    """A read or write of entity state in Cassandra failed."""


class TransientStateError(StateError, TransientError):
    """Cassandra could not answer now (timeout, replicas unavailable, overloaded, no host):
    the same request may succeed later, so the batch is retried with backoff."""


class PermanentStateError(StateError):
    """Cassandra refused the request itself, or it could not be built: the same request
    fails again. ``entities`` names the entities whose writes were refused (when known),
    so their tasks can be dead-lettered and the rest of the batch kept."""

    def __init__(self, message: str, entities: dict[tuple[str, str], str] | None = None) -> None:
        super().__init__(message)
        self.entities = entities or {}


class WorkerStalledError(StreamcoreError):
    """A worker kept failing past its retry budget; the process exits non-zero so its
    supervisor (Kubernetes) restarts it."""


class SchemaRegistryError(StreamcoreError):
    """The schema registry refused a schema (incompatible, not registered) or did not answer."""


class RegistryUnavailableError(SchemaRegistryError, TransientError):
    """The schema registry could not be reached, timed out or failed (5xx): a worker
    decoding a batch waits it out like a Cassandra outage."""


class DevServerError(StreamcoreError):
    """A local development server could not be fetched, configured or started."""
