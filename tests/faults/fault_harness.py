"""The fault suite's harness: one application on the fault servers, its workers, its load.

A scenario starts ``streamcore worker`` processes, sends a known load in the background,
injects its faults, then ``settle()`` waits (bounded) until everything sent is accounted for
and counts, from what the servers hold afterwards:

- applied: readings found both in the sensors' state and, derived by the ``echo`` module,
  in the echoes' state (read back through streamcore's own store);
- dead-lettered: readings whose record (input or derived) reached the dead-letter topic;
- lost: readings sent but neither applied nor dead-lettered;
- duplicated: records seen more than once on the input topic with ``read_committed`` (an
  input task, or the one derived task of a reading) plus state rows held twice;
- wrong state: sensors whose plain ``last`` is not their highest applied reading (a stale
  write that won over a newer one).

Each reading's value is its unique sequence number, which is what makes these exact.
New scenarios reuse ``FaultApp``: ``start_workers``, ``send``, the faults of ``servers``
and ``workers``, ``settle``.
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from support import delete_topics_with_prefix

from streamcore.codec.tasks import DeadLetterCodec, TaskDecoder
from streamcore.config import AppConfig, load_config
from streamcore.dev import DevServers, ServerStatus
from streamcore.kafka.clients import make_admin
from streamcore.kafka.topics import ensure_topics
from streamcore.model.control import DeadLetter
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.producer import DataPointProducer
from streamcore.settings import Settings
from streamcore.state.cassandra import CassandraStore, create_schema
from streamcore.state.session import open_session

log = logging.getLogger(__name__)

CONFIG = Path(__file__).parent / "config"
SENSORS = 32
ECHOES = 32  # as in config/modules/echo.py
T0 = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
"""Readings are dated from yesterday: recent enough never to be refused as expired."""

# A SIGKILLed worker's partitions move after the session timeout (librdkafka: 45 s); the
# suite runs its workers with the broker's minimum so a scenario takes seconds, not minutes.
WORKER_CLIENT_OPTIONS = '{"session.timeout.ms": "6000", "heartbeat.interval.ms": "1500"}'


RESULTS: list[str] = []
"""Every scenario's printed line, repeated in the session's terminal summary."""


# The harness's own clients keep quiet about a broker that is down on purpose.
QUIET = {"log_level": 2}


class ScenarioStuck(AssertionError):
    """A bounded wait ran out: the scenario fails with what it was waiting for."""


def reading(seq: int) -> DataPointTask:
    """The input task of sequence number ``seq``: one reading of one of the sensors."""
    eid = f"s{seq % SENSORS}"
    t = T0 + timedelta(seconds=seq)
    points = [DataPoint("sensor", eid, "reading", seq, t, t), DataPoint("sensor", eid, "last", seq)]
    return DataPointTask("sensor", eid, points)


@dataclass
class Outcome:
    scenario: str
    sent: int
    applied: int
    dead_lettered: int
    lost: int
    duplicated: int
    stall_seconds: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        text = (
            f"{self.scenario}: sent {self.sent} / applied {self.applied} / dead-lettered "
            f"{self.dead_lettered} / lost {self.lost} / duplicated {self.duplicated}"
        )
        if self.stall_seconds is not None:
            text += f" / longest stall {self.stall_seconds:.1f} s"
        return text

    def report(self) -> None:
        """Print the line (and keep it for the summary at the end of the run)."""
        print(self.line())
        print(self.details)
        RESULTS.append(self.line())

    def assert_clean(self) -> None:
        """Nothing lost, nothing duplicated, every sensor's ``last`` exact, and nothing
        stuck: the workers caught up."""
        assert self.lost == 0 and self.duplicated == 0, f"{self.line()}\n{self.details}"
        assert not self.details.get("wrong state"), f"{self.line()}\n{self.details}"
        assert self.details.get("settled", True), f"stuck: {self.line()}\n{self.details}"


class WorkerProcess:
    """One ``streamcore worker`` process; its log goes to a file (a pipe could fill up)."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.logs = logs
        self.runs = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.signalled = False
        """True while an exit is expected (the harness signalled it)."""

    @property
    def log_file(self) -> Path:
        return self.logs / f"{self.name}.{self.runs}.log"

    def start(self) -> None:
        self.runs += 1
        self.signalled = False
        with self.log_file.open("wb") as log_file:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=subprocess.DEVNULL, stderr=log_file
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.signalled = True
        self.process.send_signal(signum)

    def pause(self) -> None:
        """SIGSTOP: the process stops mid-whatever, as a long GC pause or a frozen VM does."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise ScenarioStuck(
                f"{self.name} did not exit within {timeout:.0f} s after a signal; "
                f"log:\n{self.tail()}"
            ) from None

    def check(self) -> None:
        """Fail when the worker exited without the harness asking it to."""
        if self.process is None or self.signalled:
            return
        code = self.process.poll()
        if code is not None:
            raise AssertionError(f"{self.name} exited on its own with code {code}:\n{self.tail()}")

    def tail(self, lines: int = 25) -> str:
        """The last lines of the current run's log, without librdkafka's reconnect chatter."""
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        kept = [line for line in text.splitlines() if "|FAIL|" not in line]
        return "\n".join(kept[-lines:])

    def dump_stacks(self) -> None:
        """SIGABRT a live worker: ``PYTHONFAULTHANDLER`` writes every thread's stack to its
        log, which is how a hung worker says where it hangs (the worker ends with it)."""
        if self.alive():
            assert self.process is not None
            self.signalled = True
            self.process.send_signal(signal.SIGABRT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def close(self) -> None:
        if self.alive():
            assert self.process is not None
            self.signalled = True
            self.process.send_signal(signal.SIGCONT)  # a paused one too
            self.process.kill()
            self.process.wait(30)


class Load:
    """Sends readings ``0..count-1`` paced over ``seconds`` from a thread (the SDK producer).

    ``sent`` counts tasks handed to the producer: a task the producer fails to deliver
    is lost like any other.
    """

    def __init__(self, settings: Settings, app_name: str, config: AppConfig) -> None:
        self.settings = settings
        self.app_name = app_name
        self.config = config
        self.sent = 0
        self.failed = 0
        self.undelivered = 0
        self.errors: list[BaseException] = []
        self._thread: threading.Thread | None = None

    def start(self, count: int, seconds: float) -> None:
        self._thread = threading.Thread(target=self._run, args=(count, seconds), daemon=True)
        self._thread.start()

    def _run(self, count: int, seconds: float) -> None:
        def failed(_report: Any) -> None:
            self.failed += 1

        try:
            producer = DataPointProducer(
                self.settings, self.app_name, self.config.model_spec, on_error=failed, **QUIET
            )
            started = time.monotonic()
            for seq in range(count):
                # Pace: reading ``seq`` leaves at ``seq / count`` of the way.
                delay = started + seconds * seq / count - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                    producer.poll(0)
                producer.send(reading(seq))
                self.sent += 1
            # Bounded: the default message timeout (300 s) is longer than any outage here.
            self.undelivered = producer.flush(240)
        except BaseException as exc:  # surfaced by join()
            self.errors.append(exc)

    def join(self, timeout: float) -> None:
        assert self._thread is not None
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise ScenarioStuck(f"the load was not delivered within {timeout:.0f} s")
        assert not self.errors, self.errors

    def done(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()


class ProgressMonitor:
    """Samples the group's committed offsets twice a second, for the longest stall.

    A stall is time with work pending (or unknown, while Kafka is down) in which the
    committed offsets did not move: the outage itself plus however long recovery takes.
    """

    def __init__(self, settings: Settings, group: str, topic: str, partitions: int) -> None:
        self._probe_config = {**settings.kafka.client_config(), **QUIET, "group.id": group}
        self._probe = Consumer(self._probe_config)
        self._partitions = [TopicPartition(topic, p) for p in range(partitions)]
        self.longest = 0.0
        self.caught_up = False
        self._since: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _sample(self) -> tuple[int, bool] | None:
        try:
            committed = self._probe.committed(self._partitions, timeout=2)
            ends = [self._probe.get_watermark_offsets(p, timeout=2)[1] for p in self._partitions]
        except KafkaException:
            # A consumer that never subscribed keeps a dead leader in its metadata, and its
            # watermark queries fail ("Unknown partition") after a broker is lost: start over.
            self._probe.close()
            self._probe = Consumer(self._probe_config)
            return None
        offsets = [max(c.offset, 0) for c in committed]
        # A transaction's commit marker sits after its last record: lag 1 is caught up.
        done = all(e - c <= 1 for c, e in zip(offsets, ends, strict=True))
        return sum(offsets), done

    def current_stall(self) -> float:
        """Seconds since the last commit (0 before the first, or when caught up)."""
        since = self._since
        return 0.0 if since is None else time.monotonic() - since

    def _run(self) -> None:
        last_total = 0
        while not self._stop.wait(0.5):
            sample = self._sample()
            now = time.monotonic()
            self.caught_up = sample is not None and sample[1]
            if sample is not None and (sample[0] != last_total or sample[1]):
                if sample[0] > 0:  # the clock starts with the first commit
                    self._since = now
                last_total = sample[0]
            if self._since is not None:
                self.longest = max(self.longest, now - self._since)

    def close(self) -> float:
        self._stop.set()
        self._thread.join(10)
        self._probe.close()
        return self.longest


class StateReader:
    """Readings held in state, read through ``CassandraStore``; reconnects after an outage."""

    def __init__(self, settings: Settings, config: AppConfig) -> None:
        self.settings = settings
        self.config = config
        self._session: Any = None

    def rows(self, etype: str, attr: str, prefix: str, count: int) -> Counter[int]:
        """How many rows hold each value of ``attr`` across the ``count`` entities."""
        if self._session is None:
            self._session = open_session(self.settings.cassandra, request_timeout=10)
        store = CassandraStore(
            self._session, self.settings.cassandra.keyspace, self.config.model_spec
        )
        try:
            records = store.load([(etype, f"{prefix}{i}") for i in range(count)])
        except Exception:
            self.close()
            raise
        values: Counter[int] = Counter()
        for record in records:
            values.update(row.value for row in record.attrs.get(attr, {}).values())
        return values

    def last(self) -> dict[str, Any]:
        """Each sensor's plain ``last``."""
        if self._session is None:
            self._session = open_session(self.settings.cassandra, request_timeout=10)
        store = CassandraStore(
            self._session, self.settings.cassandra.keyspace, self.config.model_spec
        )
        records = store.load([("sensor", f"s{i}") for i in range(SENSORS)])
        return {str(record.eid): record.plain("last") for record in records}

    def applied(self) -> tuple[Counter[int], Counter[int]]:
        return (
            self.rows("sensor", "reading", "s", SENSORS),
            self.rows("echo", "seen", "e", ECHOES),
        )

    def close(self) -> None:
        if self._session is not None:
            self._session.cluster.shutdown()
            self._session = None


class FaultApp:
    """A fresh application (topics, keyspace) on the fault servers, torn down on exit."""

    def __init__(
        self,
        scenario: str,
        servers: DevServers,
        settings: Settings,
        logs: Path,
        *,
        partitions: int = 4,
        batch_size: int = 200,
    ) -> None:
        self.scenario = scenario
        self.servers = servers
        self.app_name = f"f-{uuid.uuid4().hex[:10]}"
        keyspace = f"f_{uuid.uuid4().hex[:10]}"
        self.settings = settings.model_copy(
            update={
                "cassandra": settings.cassandra.model_copy(update={"keyspace": keyspace}),
                # Replication (a cluster's) kept; the partition count is the scenario's.
                "topics": settings.topics.model_copy(update={"partitions": partitions}),
            }
        )
        self.partitions = partitions
        self.batch_size = batch_size
        self.config = load_config(CONFIG)
        self.logs = logs
        self.workers: list[WorkerProcess] = []
        self.load = Load(self.settings, self.app_name, self.config)
        self.state = StateReader(self.settings, self.config)
        self.monitor: ProgressMonitor | None = None
        self.random = random.Random(scenario)
        """Seeded by the scenario's name, so a failing run's fault timing can be replayed."""

    def _drop(self) -> None:
        """Delete the scenario's topics and keyspace (best effort: a server may be down),
        so later scenarios' restarts recover only what they use."""
        try:
            delete_topics_with_prefix(self.settings.kafka.client_config(), f"{self.app_name}.")
            session = open_session(self.settings.cassandra, request_timeout=60)
            try:
                session.execute(f"DROP KEYSPACE IF EXISTS {self.settings.cassandra.keyspace}")
            finally:
                session.cluster.shutdown()
        except Exception as exc:
            log.warning("%s: cleaning up failed: %s", self.scenario, exc)

    def topic(self, role: str) -> str:
        return self.settings.topics.name(role, self.app_name)

    def __enter__(self) -> FaultApp:
        ensure_topics(make_admin(self.settings.kafka), self.settings.topics, self.app_name)
        session = open_session(self.settings.cassandra)
        try:
            cassandra = self.settings.cassandra
            create_schema(
                session,
                cassandra.keyspace,
                cassandra.replication_factor,
                cassandra.keyspace_datacenter(),
            )
        finally:
            session.cluster.shutdown()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for worker in self.workers:
            worker.close()
        if self.monitor is not None:
            self.monitor.close()
        self.state.close()
        self._drop()
        if exc is not None:
            for worker in self.workers:
                log.error("%s, last log lines:\n%s", worker.name, worker.tail())

    # -- workers -----------------------------------------------------------------------

    def start_workers(
        self, count: int, extra_env: dict[str, str] | None = None, role: str = "worker"
    ) -> list[WorkerProcess]:
        """``count`` more worker processes; ``extra_env``: settings of the scenario's own;
        ``role``: the streamcore command (``snapshots`` and ``scheduler`` run alike)."""
        env = {
            **os.environ,
            "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": self.settings.kafka.bootstrap_servers,
            "STREAMCORE_KAFKA__CLIENT_OPTIONS": WORKER_CLIENT_OPTIONS,
            "STREAMCORE_CASSANDRA__CONTACT_POINTS": json.dumps(
                self.settings.cassandra.contact_points
            ),
            "STREAMCORE_CASSANDRA__PORT": str(self.settings.cassandra.port),
            "STREAMCORE_CASSANDRA__KEYSPACE": self.settings.cassandra.keyspace,
            "STREAMCORE_WORKER__BATCH_SIZE": str(self.batch_size),
            "STREAMCORE_METRICS__PORT": "0",
            "PYTHONFAULTHANDLER": "1",
        }
        if self.settings.cassandra.local_dc:
            env["STREAMCORE_CASSANDRA__LOCAL_DC"] = self.settings.cassandra.local_dc
        env.update(extra_env or {})
        command = [
            sys.executable,
            "-m",
            "streamcore.cli",
            role,
            str(CONFIG),
            "--app-name",
            self.app_name,
        ]
        started = []
        for _ in range(count):
            name = "worker" if role == "worker" else role
            worker = WorkerProcess(f"{name}-{len(self.workers)}", command, env, self.logs)
            worker.start()
            self.workers.append(worker)
            started.append(worker)
        return started

    def check_workers(self) -> None:
        for worker in self.workers:
            worker.check()

    # -- load and progress -----------------------------------------------------------

    def send(self, count: int, seconds: float) -> None:
        """Start the load in the background and the stall clock with it."""
        self.monitor = ProgressMonitor(
            self.settings, f"{self.app_name}.ingest", self.topic("input"), self.partitions
        )
        self.monitor.start()
        self.load.start(count, seconds)

    def applied_count(self) -> int | None:
        """Readings applied with their echo so far; None while the state can't be read."""
        try:
            readings, echoes = self.state.applied()
        except Exception:
            return None
        return len(readings.keys() & echoes.keys())

    def wait_until(self, what: str, condition: Callable[[], bool], timeout: float) -> None:
        """Poll ``condition`` (workers checked too) until true, or fail saying ``what``."""
        deadline = time.monotonic() + timeout
        while not condition():
            self.check_workers()
            if time.monotonic() > deadline:
                raise ScenarioStuck(f"{self.scenario}: not {what} within {timeout:.0f} s")
            time.sleep(0.5)

    def run_for(self, seconds: float) -> None:
        """Let the load run for ``seconds`` (workers checked on the way)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.check_workers()
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def wait_applied(self, at_least: int, timeout: float = 90.0) -> None:
        self.wait_until(
            f"{at_least} readings applied",
            lambda: (self.applied_count() or 0) >= at_least,
            timeout,
        )

    def settle(
        self, timeout: float = 150.0, stuck_after: float = 60.0, stall: bool = True
    ) -> Outcome:
        """Wait until the load is delivered and fully applied, then count (see module doc).

        Bounded: when ``timeout`` runs out, or nothing was committed for ``stuck_after``
        seconds with work pending, the count is made anyway and shows what is missing as
        lost; the workers still running are made to dump their stacks to their logs.
        """
        deadline = time.monotonic() + timeout
        self.load.join(max(1.0, deadline - time.monotonic()))
        sent = self.load.sent
        monitor = self.monitor
        assert monitor is not None, "settle() after send()"
        settled = False
        quiet_since, last_applied = time.monotonic(), -1
        while time.monotonic() < deadline:
            self.check_workers()
            applied = self.applied_count()
            if monitor.caught_up and applied == sent:
                settled = True
                break
            if not monitor.caught_up or applied != last_applied:
                quiet_since, last_applied = time.monotonic(), applied if applied is not None else -1
            elif time.monotonic() - quiet_since > 15:
                break  # caught up and nothing changes: what is missing is not coming
            if monitor.current_stall() > stuck_after:
                break
            time.sleep(0.5)
        longest = monitor.close()
        self.monitor = None
        outcome = self.count(sent)
        outcome.stall_seconds = longest if stall else None
        outcome.details["settled"] = settled
        outcome.details["producer failures"] = self.load.failed
        outcome.details["worker runs"] = {w.name: w.runs for w in self.workers}
        if not settled:
            for worker in self.workers:
                worker.dump_stacks()
            outcome.details["worker logs"] = {w.name: w.tail(40) for w in self.workers}
        return outcome

    def count(self, sent: int) -> Outcome:
        readings, echoes = self._read_state()
        inputs, derived = self._read_input()
        dead = self._read_dead_letters()
        applied = {seq for seq in range(sent) if readings[seq] and echoes[seq]}
        wrong = self._wrong_last(applied)
        lost = [seq for seq in range(sent) if seq not in applied and seq not in dead]
        duplicates = {
            "input records": sum(inputs[seq] - 1 for seq in range(sent) if inputs[seq] > 1),
            "derived records": sum(derived[seq] - 1 for seq in range(sent) if derived[seq] > 1),
            "state rows": sum(readings[seq] - 1 for seq in range(sent) if readings[seq] > 1)
            + sum(echoes[seq] - 1 for seq in range(sent) if echoes[seq] > 1),
        }
        return Outcome(
            scenario=self.scenario,
            sent=sent,
            applied=len(applied),
            dead_lettered=len(dead),
            lost=len(lost),
            duplicated=sum(duplicates.values()),
            details={
                "duplicates": duplicates,
                "first lost": lost[:10],
                "derived records": sum(derived.values()),
                "dead-letter records": sum(dead.values()),
                "wrong state": wrong,
                "duplicated numbers": [seq for seq in range(sent) if inputs[seq] > 1][:10],
            },
        )

    def _wrong_last(self, applied: set[int]) -> dict[str, Any]:
        """Sensor -> (its ``last``, the highest applied reading) where they differ."""
        highest: dict[str, int] = {}
        for seq in applied:
            eid = f"s{seq % SENSORS}"
            highest[eid] = max(highest.get(eid, -1), seq)
        last = self.state.last()
        wrong = {eid: (last.get(eid), seq) for eid, seq in highest.items()}
        return {eid: pair for eid, pair in sorted(wrong.items()) if pair[0] != pair[1]}

    def _read_state(self) -> tuple[Counter[int], Counter[int]]:
        deadline = time.monotonic() + 60
        while True:
            try:
                return self.state.applied()
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise ScenarioStuck(f"state unreadable for 60 s: {exc}") from exc
                time.sleep(1)

    def _read_input(self) -> tuple[Counter[int], Counter[int]]:
        """Every committed record of the input topic: readings and echoes, by number."""
        decoder = TaskDecoder(self.config.model_spec)
        inputs: Counter[int] = Counter()
        derived: Counter[int] = Counter()
        for value in read_committed(self.settings, self.topic("input"), self.partitions):
            try:
                task = decoder.decode(value)
            except Exception:
                continue  # a poison record a scenario sent on purpose
            for dp in task.data_points:
                if dp.attr == "reading":
                    inputs[int(dp.v)] += 1
                elif dp.attr == "seen":
                    derived[int(dp.v)] += 1
        return inputs, derived

    def _read_dead_letters(self) -> Counter[int]:
        """Readings whose input or derived record was dead-lettered, by number."""
        decoder = TaskDecoder(self.config.model_spec)
        dead: Counter[int] = Counter()
        for letter in self.dead_letters():
            try:
                task = decoder.decode(letter.value or b"")
            except Exception:
                dead[-1] += 1  # a letter whose record can't be read: counted, not matched
                continue
            dead.update(int(dp.v) for dp in task.data_points if dp.attr in ("reading", "seen"))
        return dead

    def dead_letters(self) -> list[DeadLetter]:
        letters = DeadLetterCodec()
        values = read_committed(self.settings, self.topic("dead_letter"), self.partitions)
        return [letters.decode(value) for value in values]

    def input_records(self) -> list[bytes]:
        """Every committed record value of the input topic."""
        return read_committed(self.settings, self.topic("input"), self.partitions)

    def send_raw(self, records: list[tuple[bytes | None, bytes]]) -> None:
        """Produce ``(key, value)`` records to the input topic as they are, unchecked."""
        producer = Producer(
            {**self.settings.kafka.client_config(), **QUIET, "message.max.bytes": 1_000_000}
        )
        failures: list[Any] = []

        def delivered(error: Any, _message: Any) -> None:
            if error is not None:
                failures.append(error)

        for key, value in records:
            while True:
                try:
                    producer.produce(self.topic("input"), value, key, on_delivery=delivered)
                    break
                except BufferError:
                    producer.poll(0.1)
        assert producer.flush(60) == 0 and not failures, failures


def read_committed(
    settings: Settings, topic: str, partitions: int, timeout: float = 60.0
) -> list[bytes]:
    """Every committed record value of ``topic``, read to its end (bounded by ``timeout``)."""
    consumer = Consumer(
        {
            **settings.kafka.client_config(),
            **QUIET,
            "group.id": f"fault-reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    values: list[bytes] = []
    try:
        assignment = [TopicPartition(topic, p, 0) for p in range(partitions)]
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), 10)[1]
            for p in range(partitions)
        }
        consumer.assign(assignment)
        remaining = {p for p, end in ends.items() if end > 0}
        deadline = time.monotonic() + timeout
        while remaining:
            if time.monotonic() > deadline:
                raise ScenarioStuck(f"{topic} not read to its end within {timeout:.0f} s")
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                value = message.value()
                if value is not None:
                    values.append(value)
            # The position passes the commit markers too; at the end it equals the end offset.
            for tp in consumer.position([TopicPartition(topic, p) for p in list(remaining)]):
                if tp.offset >= ends[tp.partition]:
                    remaining.discard(tp.partition)
    finally:
        consumer.close()
    return values


def refuse_servers_not_started_here(statuses: list[ServerStatus]) -> None:
    """The suite kills and pauses its servers: one it found running (a killed run of
    another checkout leaves its servers on these ports, with pid files elsewhere) can't
    be, and every scenario would fail for that reason instead of its own."""
    foreign = [s for s in statuses if s.pid is None]
    if foreign:
        pytest.fail(
            "servers this run did not start answer on "
            + ", ".join(f"{s.host}:{s.port} ({s.name})" for s in foreign)
            + ": stop them (a killed run's leftovers?) and run again"
        )
