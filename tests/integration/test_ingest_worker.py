"""Data-points in through the real broker, profiles out of the real Cassandra."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from typing import Any

from confluent_kafka import Producer
from support import application, read_topic, running, wait_for

from streamcore.codec.tasks import DeadLetterCodec, TaskEncoder
from streamcore.config import load_config
from streamcore.ingest.hook_runner import NoHooks
from streamcore.ingest.processor import TaskProcessor
from streamcore.model.datapoint import DataPoint, DataPointTask, Link
from streamcore.producer import DataPointProducer
from streamcore.runtime import Runtime, build_ingest_worker
from streamcore.settings import Settings
from streamcore.state.record import EntityRecord

# Recent (open_ports has max_age 30d: older data is refused as expired), whole minutes.
T0 = (datetime.now(UTC) - timedelta(days=2)).replace(hour=8, minute=0, second=0, microsecond=0)
IP = "192.0.2.10"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def send(runtime: Runtime, tasks: list[DataPointTask]) -> None:
    with DataPointProducer(runtime.settings, runtime.app_name, runtime.config.model_spec) as p:
        for task in tasks:
            p.send(task)


def load(runtime: Runtime, etype: str, eid: Any) -> Any:
    (record,) = runtime.store().load([(etype, eid)])
    return record


def ports(record: Any) -> list[tuple[int, datetime, datetime]]:
    return sorted((r.value, r.t1, r.t2) for r in record.attrs.get("open_ports", {}).values())


def test_profile_follows_dp3_merge_rules(settings: Settings, app_name: str, keyspace: str) -> None:
    with application(settings, app_name, keyspace) as runtime:
        ip = IPv4Address(IP)
        send(
            runtime,
            [
                DataPointTask("ip", IP, [DataPoint("ip", IP, "hostname", "old.example")]),
                DataPointTask(
                    "ip",
                    IP,
                    [
                        DataPoint("ip", IP, "hostname", "host.example"),
                        DataPoint("ip", IP, "open_ports", 22, at(0), at(5)),
                        DataPoint("ip", IP, "open_ports", 80, at(0), at(5)),
                    ],
                ),
                # 22 again within post_validity (10m): merged; 443 new.
                DataPointTask(
                    "ip",
                    IP,
                    [
                        DataPoint("ip", IP, "open_ports", 22, at(12), at(20)),
                        DataPoint("ip", IP, "open_ports", 443, at(12), at(20)),
                        DataPoint("ip", IP, "label", "scanner", at(0), at(10), 0.4),
                        DataPoint("ip", IP, "label", "scanner", at(12), at(20), 0.8),
                        DataPoint(
                            "ip",
                            IP,
                            "traffic",
                            {"bytes": [10, 20], "time": [at(1), at(2)]},
                            at(0),
                            at(3),
                        ),
                        DataPoint("ip", IP, "domain", {"eid": "example.org"}, at(0), at(1)),
                    ],
                ),
            ],
        )
        worker = build_ingest_worker(runtime)
        with running(worker):
            wait_for(lambda: len(ports(load(runtime, "ip", ip))) == 3)
            record = wait_for(lambda: (r := load(runtime, "ip", ip)).attrs.get("traffic") and r)

    assert record.exists and record.created is not None
    assert record.plain("hostname") == "host.example"
    assert ports(record) == [(22, at(0), at(20)), (80, at(0), at(5)), (443, at(12), at(20))]
    (label,) = record.attrs["label"].values()
    assert (label.value, label.t1, label.t2, label.c) == (
        "scanner",
        at(0),
        at(20),
        0.6000000000000001,
    )
    (chunk,) = record.attrs["traffic"].values()
    assert chunk.value == {"bytes": [10, 20], "time": [at(1), at(2)]}
    (link,) = record.attrs["domain"].values()
    assert link.value == Link("example.org")
    # ttl lifetime: a base token from on_create, a data token from max_age of open_ports.
    assert set(record.ttl_tokens) == {"base", "data"}
    assert record.ttl_tokens["data"] == at(20) + timedelta(days=30)


def test_bad_input_is_dead_lettered_and_the_worker_goes_on(
    settings: Settings, app_name: str, keyspace: str, tmp_path: Any
) -> None:
    with application(settings, app_name, keyspace) as runtime:
        # A task of an entity type this application doesn't have, from another model.
        other = tmp_path / "other"
        (other / "db_entities").mkdir(parents=True)
        (other / "db_entities" / "user.yml").write_text(
            "entity: {id: user, name: User, snapshot: false}\n"
            "attribs: {email: {name: Email, type: plain, data_type: string}}\n"
        )
        foreign = TaskEncoder(load_config(other).model_spec).encode(
            DataPointTask("user", "u1", [DataPoint("user", "u1", "email", "a@b.c")])
        )
        raw = Producer(runtime.settings.kafka.client_config())
        input_topic = runtime.topic("input")
        raw.produce(input_topic, key=b"garbage", value=b"\x00not avro at all")
        raw.produce(input_topic, key=b"user:u1", value=foreign)
        raw.produce(input_topic, key=b"empty", value=None)
        raw.flush(10)
        send(runtime, [DataPointTask("ip", IP, [DataPoint("ip", IP, "hostname", "ok.example")])])

        with running(build_ingest_worker(runtime)):
            wait_for(lambda: load(runtime, "ip", IPv4Address(IP)).plain("hostname"))
            letters = read_topic(runtime.settings, runtime.topic("dead_letter"), expect=3)

    decoded = {
        letter.key: letter for letter in (DeadLetterCodec().decode(m.value()) for m in letters)
    }
    assert {key: letter.reason for key, letter in decoded.items()} == {
        b"garbage": "undecodable",
        b"user:u1": "invalid_data_point",
        b"empty": "invalid_data_point",
    }
    assert decoded[b"garbage"].value == b"\x00not avro at all"
    assert decoded[b"user:u1"].value == foreign
    assert "unknown entity type 'user'" in decoded[b"user:u1"].message
    assert "empty message" in decoded[b"empty"].message
    assert all(letter.topic == input_topic for letter in decoded.values())


class DomainLinker(NoHooks):
    """Derives, for each ip -> domain link, the reverse link and the name length."""

    def __init__(self) -> None:
        self.created: list[Any] = []

    def run_entity_creation(self, etype: str, eid: Any, task: DataPointTask) -> list[DataPointTask]:
        self.created.append((etype, eid))
        return []

    def run_new_attr(self, etype: str, eid: Any, dp: DataPoint) -> list[DataPointTask]:
        if etype != "ip" or dp.attr != "domain":
            return []
        name = dp.v.eid
        return [
            DataPointTask(
                "domain",
                name,
                [
                    DataPoint("domain", name, "name_length", len(name)),
                    DataPoint("domain", name, "seen_from", {"eid": str(eid)}, dp.t1, dp.t2),
                ],
            )
        ]


def test_derived_tasks_go_round_and_are_applied(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    with application(settings, app_name, keyspace) as runtime:
        hooks = DomainLinker()
        ips = [f"198.51.100.{i}" for i in range(1, 6)]
        send(
            runtime,
            [
                DataPointTask(
                    "ip", ip, [DataPoint("ip", ip, "domain", {"eid": "example.net"}, at(0), at(1))]
                )
                for ip in ips
            ],
        )
        with running(build_ingest_worker(runtime, hooks=hooks)):
            domain = wait_for(
                lambda: (
                    len((r := load(runtime, "domain", "example.net")).attrs.get("seen_from", {}))
                    == len(ips)
                    and r
                )
            )
    assert domain.plain("name_length") == len("example.net")
    assert sorted(str(r.value.eid) for r in domain.attrs["seen_from"].values()) == ips
    # Every entity was created once: five ips, then the domain on its first derived task.
    assert sorted(hooks.created, key=str).count(("domain", "example.net")) == 1
    assert len(hooks.created) == len(ips) + 1


def test_packed_cache_records_give_the_same_profiles(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    """With no hot tier every cached record is packed after its batch and unpacked by the
    next: rounds of tasks over the same entities must end in the profiles the processor
    gives them from scratch in memory, and the packed tier must be what served them."""
    packed_only = settings.model_copy(
        update={"worker": settings.worker.model_copy(update={"cache_hot_entities": 0})}
    )
    ips = [f"198.51.100.{n}" for n in range(1, 21)]
    rounds = [
        [
            DataPointTask(
                "ip",
                ip,
                [
                    DataPoint("ip", ip, "hostname", f"r{r}.example"),
                    DataPoint("ip", ip, "open_ports", 22 + r % 2, at(10 * r), at(10 * r + 5)),
                    DataPoint("ip", ip, "label", "scanner", at(10 * r), at(10 * r + 5), 0.5),
                ],
            )
            for ip in ips
        ]
        for r in range(4)
    ]
    with application(packed_only, app_name, keyspace) as runtime:
        model = runtime.config.model_spec
        expected: dict[Any, EntityRecord] = {}
        processor = TaskProcessor(model, NoHooks())
        for n, sent in enumerate(t for tasks in rounds for t in tasks):
            task = model.validate_task(sent)
            record = expected.setdefault(task.eid, EntityRecord("ip", task.eid, str(task.eid)))
            processor.process(record, task, f"x:0:{n}", datetime.now(UTC))
        worker = build_ingest_worker(runtime)
        with running(worker):
            for r, tasks in enumerate(rounds):
                send(runtime, tasks)  # each round after the last is durable: a cache hit each
                wait_for(
                    lambda r=r: all(
                        load(runtime, "ip", IPv4Address(ip)).plain("hostname") == f"r{r}.example"
                        for ip in ips
                    )
                )
        assert worker.cache.hot_entities == 0 and worker.cache.unpacked >= 3 * len(ips)
        stored = runtime.store().load([("ip", IPv4Address(ip)) for ip in ips])

    def rows(record: EntityRecord) -> dict[str, dict[bytes, tuple[Any, ...]]]:
        # A plain value's t1 is when it was applied: only the value is compared.
        return {
            attr: {
                key: (row.value, row.v_json, row.t1 if key else None, row.t2, row.c, row.src)
                for key, row in by_key.items()
            }
            for attr, by_key in record.attrs.items()
        }

    for ip, record in zip(ips, stored, strict=True):
        want = expected[IPv4Address(ip)]
        assert rows(record) == rows(want), ip
        assert len(record.attrs["open_ports"]) == 4  # a row a round, extending the unpacked
        assert record.ttl_tokens.keys() == want.ttl_tokens.keys()
