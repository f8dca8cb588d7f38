"""Links kept in step with deletes (``state/links.py``), in memory: what a delete derives,
what an unlink task removes, and what the link index is told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from support import CONFIGS

from streamcore.config import load_config
from streamcore.ingest.hook_runner import NoHooks
from streamcore.ingest.processor import TaskProcessor
from streamcore.model.datapoint import DataPoint, DataPointTask, Link
from streamcore.state.links import LinkAttrs, parse_unlink, unlink_task
from streamcore.state.record import EntityRecord

MODEL = load_config(CONFIGS / "dp3_links").model_spec
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


class Index:
    """An in-memory link index: who links to each (type, id)."""

    def __init__(self, links: dict[tuple[str, str], list[tuple[str, str, Any]]]) -> None:
        self.links = links

    def links_to(self, etype: str, eid_key: str) -> list[tuple[str, str, Any]]:
        return self.links.get((etype, eid_key), [])


def processor(index: Index | None = None) -> TaskProcessor:
    return TaskProcessor(MODEL, NoHooks(), links=index)


def task(eid: str, *points: DataPoint) -> DataPointTask:
    return MODEL.validate_task(DataPointTask("del_anchor", eid, list(points)))


def anchor() -> EntityRecord:
    record = EntityRecord("del_anchor", "a1", "a1")
    seen = [
        DataPoint("del_anchor", "a1", "seen", Link(w), NOW - timedelta(minutes=m), NOW, 1.0)
        for w, m in (("w1", 5), ("w2", 3), ("w1", 90))
    ]
    points = [DataPoint("del_anchor", "a1", "ref", Link("w1")), *seen]
    processor().process(record, task("a1", *points), "in:0:0", NOW)
    return record


def test_link_targets_lapse_as_dp3s_cache_entries() -> None:
    """Plain: while stored; observations: latest t2 + post_validity (1h here)."""
    assert LinkAttrs(MODEL).targets(anchor()) == {
        ("ref", "del_weak", "w1"): None,
        ("seen", "del_weak", "w1"): NOW + timedelta(hours=1),
        ("seen", "del_weak", "w2"): NOW + timedelta(hours=1),
    }


def test_a_delete_asks_every_linking_entity_to_unlink() -> None:
    group = EntityRecord("del_group", "g1", "g1")
    point = DataPoint("del_group", "g1", "name", "one")
    create = MODEL.validate_task(DataPointTask("del_group", "g1", [point]))
    index = Index(
        {("del_group", "g1"): [("del_anchor", "member", "a1"), ("del_anchor", "member", "a2")]}
    )
    processor(index).process(group, create, "in:0:0", NOW)
    derived = processor(index).process(
        group, DataPointTask("del_group", "g1", delete=True), "in:0:1", NOW
    )
    assert [(t.etype, t.eid, parse_unlink(t)) for t in derived] == [
        ("del_anchor", "a1", ("member", "del_group", "g1")),
        ("del_anchor", "a2", ("member", "del_group", "g1")),
    ]
    for unlink in derived:
        assert MODEL.validate_task(unlink) is unlink  # it travels through the input topic
    assert not group.exists and group.deleted


def test_a_deleted_entity_drops_its_own_links() -> None:
    record = anchor()
    assert (
        processor(Index({})).process(
            record, DataPointTask("del_anchor", "a1", delete=True), "in:0:1", NOW
        )
        == []
    )
    assert sorted(record.dropped_links) == [
        ("ref", "del_weak", "w1"),
        ("seen", "del_weak", "w1"),
        ("seen", "del_weak", "w2"),
    ]


def test_an_unlink_task_removes_the_links_as_dp3s_delete_link_dps() -> None:
    """Observation rows linking to the entity are pulled; a plain link is unset; the
    rest stays; no hook runs (DP³'s link removal is a database update)."""
    record = anchor()
    record.mark_clean()
    unlink = unlink_task("del_anchor", "a1", ("seen", "del_weak", "w1"))
    assert processor().process(record, unlink, "in:0:2", NOW) == []
    assert sorted(row.value.eid for row in record.attrs["seen"].values()) == ["w2"]
    assert record.plain("ref") == Link("w1")  # another attribute: kept
    assert record.dropped_links == [("seen", "del_weak", "w1")]
    processor().process(
        record, unlink_task("del_anchor", "a1", ("ref", "del_weak", "w1")), "in:0:3", NOW
    )
    assert record.plain("ref") is None


def test_an_unlink_task_for_a_missing_entity_creates_nothing() -> None:
    record = EntityRecord("del_anchor", "gone", "gone")
    unlink = unlink_task("del_anchor", "gone", ("ref", "del_weak", "w1"))
    assert processor().process(record, unlink, "in:0:0", NOW) == []
    assert not record.exists and not record.dirty_rows and not record.dirty_meta


def test_a_replaced_plain_link_leaves_the_index() -> None:
    record = anchor()
    record.mark_clean()
    processor().process(
        record, task("a1", DataPoint("del_anchor", "a1", "ref", Link("w9"))), "in:0:4", NOW
    )
    assert record.dropped_links == [("ref", "del_weak", "w1")]


def test_user_tags_are_not_unlink_tasks() -> None:
    assert parse_unlink(DataPointTask("del_anchor", "a1", tags=["streamcore:unlinked"])) is None
    points = [DataPoint("del_anchor", "a1", "data1", "x")]
    tagged = DataPointTask("del_anchor", "a1", points, tags=["streamcore:unlink ref del_weak w"])
    assert parse_unlink(tagged) is None


def test_deleting_an_entity_never_stored_still_removes_the_links_to_it() -> None:
    """Links may point at an entity that has no record (DP³'s keep_empty stubs)."""
    missing = EntityRecord("del_weak", "w7", "w7")
    index = Index({("del_weak", "w7"): [("del_anchor", "ref", "a1")]})
    derived = processor(index).process(
        missing, DataPointTask("del_weak", "w7", delete=True), "in:0:0", NOW
    )
    assert [(t.eid, parse_unlink(t)) for t in derived] == [("a1", ("ref", "del_weak", "w7"))]
