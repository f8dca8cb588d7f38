"""The API fuzzed from its own OpenAPI schema (schemathesis): no request, however odd,
gets a 5xx while Kafka and Cassandra are up. Bounded examples per operation."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from api_support import api_harness
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error

from streamcore.settings import Settings

pytestmark = [pytest.mark.kafka, pytest.mark.cassandra]

EXAMPLES = int(os.environ.get("STREAMCORE_FUZZ_EXAMPLES", "12"))


@pytest.fixture(scope="module")
def api_schema(settings: Settings, cassandra_session: Any) -> Iterator[Any]:
    """One API (one app name, one keyspace) for every fuzzed operation of the module."""
    from support import delete_topics_with_prefix

    app_name = f"t-{uuid.uuid4().hex[:12]}"
    keyspace = f"t_{uuid.uuid4().hex[:12]}"
    cassandra_session.execute(
        f"CREATE KEYSPACE {keyspace} WITH replication = "
        "{'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    try:
        with api_harness(settings, app_name, keyspace, scan_limit=1000) as harness:
            yield schemathesis.openapi.from_asgi("/openapi.json", harness.client.app)
    finally:
        cassandra_session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)
        delete_topics_with_prefix(settings.kafka.client_config(), f"{app_name}.")


def test_no_server_errors(api_schema: Any) -> None:
    """Every operation, ``EXAMPLES`` generated requests each (schemathesis' pytest plugin
    does not run under this pytest, so the operations are walked here)."""
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck)
        )
        def fuzz(case: Any) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        try:
            fuzz()
        except Exception as exc:  # collected: every operation is fuzzed before failing
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert operations >= 30
    assert not failures, "\n\n".join(failures)
