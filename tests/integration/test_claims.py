"""Exactly one claimant per (job, slot), however many try at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from streamcore.state.claims import ClaimStore


def test_one_winner_per_slot(cassandra_session: Any, keyspace: str) -> None:
    stores = [ClaimStore(cassandra_session, keyspace, owner=f"replica-{i}") for i in range(4)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda s: s.claim("snapshots", "2026-11-25T10:30"), stores * 2))
    assert results.count(True) == 1
    assert stores[0].claim("snapshots", "2026-11-25T10:35") is True
    assert stores[1].claim("snapshots", "2026-11-25T10:35") is False
    assert stores[1].claim("updater", "2026-11-25T10:35") is True
