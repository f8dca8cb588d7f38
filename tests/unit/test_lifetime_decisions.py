"""Expiry decisions: TTL tokens all past, weak entities without live links, immortal kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from streamcore.errors import ConfigError
from streamcore.history.collector import GarbageCollector
from streamcore.history.lifetimes import linked_eids, referrers, ttl_expired, ttl_types, weak_types
from streamcore.model.datapoint import PRUNE_TTL_TAG, Link
from streamcore.state.merge import interval_key
from streamcore.state.record import PLAIN_KEY, EntityRecord, Row
from streamcore.testing.config import model_spec_from_dicts

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def entity(etype: str, lifetime: dict[str, Any], attribs: dict[str, Any] | None = None) -> Any:
    return {
        "entity": {"id": etype, "name": etype, "snapshot": False, "lifetime": lifetime},
        "attribs": attribs or {},
    }


MODEL = model_spec_from_dicts(
    {
        "user": entity(
            "user",
            {"type": "ttl", "on_create": "1h"},
            {
                "ticket": {
                    "name": "t",
                    "type": "observations",
                    "data_type": "link<ticket>",
                    "multi_value": True,
                    "history_params": {"post_validity": "10m"},
                },
                "home": {"name": "h", "type": "plain", "data_type": "link<ticket>"},
            },
        ),
        "ticket": entity("ticket", {"type": "weak"}),
        "line": entity("line", {"type": "immortal"}),
    }
)


def record(ttl: dict[str, datetime] | None = None) -> EntityRecord:
    return EntityRecord("user", "u", "u", exists=True, ttl_tokens=ttl or {})


def test_ttl_entity_expires_when_all_tokens_are_past() -> None:
    assert ttl_expired(record({"base": NOW - HOUR, "data": NOW - 2 * HOUR}), NOW)
    assert not ttl_expired(record({"base": NOW - HOUR, "data": NOW + HOUR}), NOW)
    assert not ttl_expired(record(), NOW)  # no tokens: left alone, as in DP³


def test_lifetime_kinds_by_type() -> None:
    assert (ttl_types(MODEL), weak_types(MODEL)) == (["user"], ["ticket"])
    assert referrers(MODEL, "ticket") == {"user": ["ticket", "home"]}
    assert referrers(MODEL, "line") == {}


def test_live_links_only_count() -> None:
    user = record()
    recent, old = NOW - timedelta(minutes=5), NOW - HOUR
    user.attrs["ticket"] = {
        interval_key(recent, recent, "a"): Row(Link("a"), "", t1=recent, t2=recent),
        interval_key(old, old, "b"): Row(Link("b"), "", t1=old, t2=old),
    }
    user.attrs["home"] = {PLAIN_KEY: Row(Link("c"), "", t1=old)}
    assert linked_eids(user, ["ticket", "home"], MODEL, NOW) == {"a", "c"}


def test_weak_type_nobody_links_to_is_a_start_up_error() -> None:
    model = model_spec_from_dicts({"orphan": entity("orphan", {"type": "weak"})})
    with pytest.raises(ConfigError, match="orphan"):
        GarbageCollector(model, store=None, sink=None)  # type: ignore[arg-type]


class Store:
    """Records of one bucket, as ``CassandraStore`` scans them."""

    def __init__(self, *records: EntityRecord) -> None:
        self.records = {(r.etype, r.eid): r for r in records}

    def bucket_eids(self, etype: str, buckets: Any) -> list[tuple[str, Any]]:
        if list(buckets) != [0]:
            return []
        return [(etype, eid) for (t, eid) in self.records if t == etype]

    def load(self, keys: Any) -> list[EntityRecord]:
        return [self.records[key] for key in keys]


class Sink:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, task: Any) -> None:
        self.sent.append(task)

    def flush(self, timeout: float | None = None) -> int:
        return 0


def test_the_collector_deletes_expired_entities_and_prunes_the_others_tokens() -> None:
    """DP³'s collect_ttl: all tokens expired -> delete; some -> remove_expired_ttls."""
    live = {"base": NOW - HOUR, "data": NOW + HOUR}
    dead = {"base": NOW - HOUR, "data": NOW - HOUR}
    fresh = {"base": NOW + HOUR}
    records = [
        EntityRecord("user", eid, eid, exists=True, ttl_tokens=tokens)
        for eid, tokens in (("live", live), ("dead", dead), ("fresh", fresh))
    ]
    sink = Sink()
    collector = GarbageCollector(MODEL, Store(*records), sink, clock=lambda: NOW)
    assert collector.collect() == 1
    sent = {(task.eid, task.delete, tuple(task.tags)) for task in sink.sent}
    assert sent == {("dead", True, ()), ("live", False, (PRUNE_TTL_TAG,))}
    assert collector.stats["pruned"] == 1
