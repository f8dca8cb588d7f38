"""Cassandra driver errors sorted, in one place, into "try again" and "never works".

The worker's retry policy reads only ``TransientStateError`` / ``PermanentStateError``;
nothing else in streamcore looks at the driver's exception classes.
"""

from __future__ import annotations

from cassandra import OperationTimedOut, RequestExecutionException
from cassandra.cluster import NoHostAvailable
from cassandra.connection import ConnectionException
from cassandra.protocol import IsBootstrappingErrorMessage, OverloadedErrorMessage

from streamcore.errors import PermanentStateError, StateError, TransientStateError

# Replicas or coordinator could not answer now: the same request may well succeed later.
# Every RequestExecutionException (unavailable, timeouts, ReadFailure/WriteFailure, truncate
# errors) counts: a replica failing is most often a node in trouble, and the retry budget
# bounds the cost of being wrong. Request *validation* errors (invalid, unauthorized) don't.
_TRANSIENT = (
    RequestExecutionException,
    OperationTimedOut,
    NoHostAvailable,
    ConnectionException,
    OverloadedErrorMessage,
    IsBootstrappingErrorMessage,
    ConnectionResetError,
    ConnectionRefusedError,
    TimeoutError,
)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (a driver or socket error) is worth retrying."""
    return isinstance(exc, _TRANSIENT)


def classified(exc: BaseException, what: str) -> StateError:
    """``exc`` as the streamcore error the retry policy understands; ``what`` says what
    was being done (``reading ip 1.2.3.4``)."""
    if isinstance(exc, StateError):
        return exc
    if is_transient(exc):
        return TransientStateError(f"{what} failed (transient, will retry): {exc!r}")
    return PermanentStateError(f"{what} failed: {exc!r}")
