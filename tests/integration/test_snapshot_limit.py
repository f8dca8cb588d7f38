"""The snapshot bench's physical limit does the I/O it claims (on the real Cassandra): the
bare scan reads every stored row of every task's range across pages, and the bare write
writes every entity's snapshot as the run wrote it, a ``snapshots`` row and a
``latest_snapshots`` row with the same text and indexed values, into empty tables of the
same schema. A limit that read or wrote less would flatter the ratio the bench reports."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from streamcore.config import load_config
from streamcore.config.samples import EXAMPLE_CONFIG_DIR
from streamcore.state.cassandra import CassandraStore, create_schema
from streamcore.state.snapshots import SnapshotStore

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from snapshot_limit import PAGE, bare_scan, bare_write  # noqa: E402
from snapshots import records  # noqa: E402

IPS = 2_400  # + 120 domains: more entities than a write page, more rows than a scan page


def test_the_bare_scan_reads_every_row_of_every_task(cassandra_session: Any, keyspace: str) -> None:
    model = load_config(EXAMPLE_CONFIG_DIR).model_spec
    create_schema(cassandra_session, keyspace)
    CassandraStore(cassandra_session, keyspace, model).write(records(IPS, datetime.now(UTC)))
    stored = cassandra_session.execute(
        f"SELECT COUNT(*) FROM {keyspace}.entity_state", timeout=60
    ).one()[0]
    assert stored > PAGE * 2

    assert bare_scan(cassandra_session, keyspace, 4)() == stored
    assert bare_scan(cassandra_session, keyspace, 1)() == stored


def test_the_bare_write_writes_each_snapshot_as_the_run_did(
    cassandra_session: Any, keyspace: str
) -> None:
    model = load_config(EXAMPLE_CONFIG_DIR).model_spec
    create_schema(cassandra_session, keyspace)
    first = datetime(2026, 1, 1, tzinfo=UTC)
    snapshots = [
        ("ip", f"10.0.{i // 256}.{i % 256}", json.dumps({"eid": str(i), "n": i, "h": f"h{i}"}))
        for i in range(PAGE + 500)
    ]
    SnapshotStore(cassandra_session, keyspace, model).save(snapshots, first, 3600)
    into = f"{keyspace}_bare"
    create_schema(cassandra_session, into)
    try:
        assert bare_write(cassandra_session, keyspace, into)() == len(snapshots)

        history = list(cassandra_session.execute(f"SELECT eid, v FROM {into}.snapshots"))
        assert sorted((row.eid, row.v) for row in history) == sorted(
            (eid, text) for _, eid, text in snapshots
        )
        latest = {
            row.eid: row
            for row in cassandra_session.execute(
                f"SELECT eid, v, vals FROM {into}.latest_snapshots"
            )
        }
        assert len(latest) == len(snapshots)
        for _, eid, text in snapshots:
            assert latest[eid].v == text
            n = json.loads(text)["n"]
            assert dict(latest[eid].vals) == {"n": str(n), "h": f'"h{n}"'}
    finally:
        cassandra_session.execute(f"DROP KEYSPACE IF EXISTS {into}", timeout=60)
