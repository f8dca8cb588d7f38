"""The processor's bookkeeping that the store relies on: TTL tokens and the index row."""

from __future__ import annotations

from datetime import timedelta

from streamcore.config.samples import T0, dp, example_model
from streamcore.ingest.hook_runner import NoHooks
from streamcore.ingest.processor import TaskProcessor
from streamcore.model import DataPoint, DataPointTask
from streamcore.state.record import EntityRecord


def _task(*points: DataPoint) -> DataPointTask:
    return example_model().validate_task(DataPointTask("ip", "192.0.2.1", list(points)))


def test_ttl_tokens_follow_the_attribute_rules() -> None:
    """ip (config/db_entities/ip.yml): ttl lifetime, on_create 1d, mirror_data; blocked
    (plain) has ttl 7d; open_ports max_age 30d; asn neither. DP³'s one ``data`` token
    (dp-cubed 0.10.0 ``GarbageCollector``): plain now + ttl, observations t2 + max_age,
    kept at the latest (its ``$max``)."""
    processor = TaskProcessor(example_model(), NoHooks())
    record = EntityRecord("ip", None, "192.0.2.1")
    t2 = T0 + timedelta(minutes=5)
    task = _task(dp("asn", 1), dp("blocked", True), dp("open_ports", [22], t1=T0, t2=t2))
    processor.process(record, task, "in:0:1", T0)
    assert record.ttl_tokens == {
        "base": T0 + timedelta(days=1),
        "data": t2 + timedelta(days=30),  # later than T0 + 7d, the plain value's
    }
    processor.process(record, _task(dp("open_ports", [22], t1=T0, t2=T0)), "in:0:2", T0)
    assert record.ttl_tokens["data"] == t2 + timedelta(days=30)  # tokens only extend


def test_creation_and_its_replay_ask_for_the_index_row_other_tasks_do_not() -> None:
    processor = TaskProcessor(example_model(), NoHooks())
    record = EntityRecord("ip", None, "192.0.2.1")
    processor.process(record, _task(dp("asn", 1)), "in:0:1", T0)
    assert record.exists and record.created_by == "in:0:1" and not record.indexed
    record.mark_clean()
    record.indexed = True  # as the store sets it once the index row is written
    processor.process(record, _task(dp("asn", 2)), "in:0:2", T0)
    assert record.indexed and not record.dirty_meta
    processor.process(record, _task(dp("asn", 1)), "in:0:1", T0)  # the creation replayed
    assert not record.indexed and record.dirty_meta
