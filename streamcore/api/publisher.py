"""From DP³'s JSON data-points to acknowledged tasks on the input topic.

``plan_tasks`` checks every data-point (the model, the input limits: the same
``TaskValidator`` as the producer SDK and the worker) before anything is produced, and
names the first bad one by its index and field; the valid ones are grouped into one task
per entity, in order. ``Publisher.publish`` produces the tasks and returns only once the
broker acknowledged every one of them (``acks=all``), or raises ``PublishError`` when one
was refused or not acknowledged within the timeout: the API then answers 503, and the
client may send again (at-least-once: a retried request can duplicate data-points, which
DP³'s merge rules absorb for observations and plain values).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from streamcore.codec.framing import Framing
from streamcore.codec.tasks import TaskEncoder
from streamcore.errors import InvalidDataPointError, LimitExceededError, StreamcoreError
from streamcore.kafka.clients import KafkaProducer
from streamcore.limits import TaskValidator
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.model.modelspec import ModelSpec

log = logging.getLogger(__name__)


class PublishError(StreamcoreError):
    """Kafka did not acknowledge the tasks in time (or refused them): nothing is promised."""


@dataclass(frozen=True)
class DataPointProblem:
    """Why data-point ``index`` of a request is refused; ``field`` is its DP³ key."""

    index: int
    field: str
    message: str


def _field_of(message: str) -> str:
    """The DP³ key a model error is about (the model names it in its message)."""
    lowered = message.lower()
    for needle, field in (("t1", "t1"), ("t2", "t2"), ("confidence", "c"), (" src", "src")):
        if needle in lowered:
            return field
    return "v"


def check_datapoint(
    model: ModelSpec, validator: TaskValidator, index: int, dp: DataPoint
) -> DataPointProblem | None:
    """Validate (and normalize) one data-point alone; the problem, or None."""
    etype = dp.etype or ""
    if etype not in model.entities:
        return DataPointProblem(index, "type", f"Entity type '{etype}' doesn't exist")
    if dp.attr not in model.entity_attributes[etype]:
        return DataPointProblem(
            index, "attr", f"Combination of type '{etype}' and attr '{dp.attr}' doesn't exist"
        )
    try:
        dp.eid = model.parse_eid(etype, dp.eid)
    except ValueError as exc:
        return DataPointProblem(index, "id", f"Invalid id of type '{etype}': {exc}")
    try:
        validator.validate(DataPointTask(etype, dp.eid, [dp]))
    except InvalidDataPointError as exc:  # LimitExceededError too
        return DataPointProblem(index, _field_of(str(exc)), str(exc))
    return None


def plan_tasks(
    model: ModelSpec, validator: TaskValidator, data_points: Sequence[DataPoint]
) -> tuple[list[DataPointTask], DataPointProblem | None]:
    """One task per entity (data-points in request order), or the first problem.

    The happy path validates each entity's task once; when one fails, every data-point is
    checked alone, in order, to name the first bad one (a task that fails only as a whole,
    e.g. over ``max_data_points``, is returned for ``Publisher.encode`` to refuse)."""
    tasks: dict[tuple[str, Any], DataPointTask] = {}
    attributes = model.entity_attributes
    for index, dp in enumerate(data_points):
        etype = dp.etype or ""
        known = attributes.get(etype)
        if known is None or dp.attr not in known:
            return [], check_datapoint(model, validator, index, dp)
        try:
            dp.eid = model.parse_eid(etype, dp.eid)
        except ValueError:
            return [], check_datapoint(model, validator, index, dp)
        task = tasks.get((etype, dp.eid))
        if task is None:
            task = tasks[(etype, dp.eid)] = DataPointTask(etype, dp.eid)
        task.data_points.append(dp)
    limit = validator.limits.max_data_points
    try:
        for task in tasks.values():
            if len(task.data_points) <= limit:
                validator.validate(task)
    except InvalidDataPointError:  # LimitExceededError too
        for index, dp in enumerate(data_points):
            problem = check_datapoint(model, validator, index, dp)
            if problem is not None:
                return [], problem
    return list(tasks.values()), None


class _Acks:
    """The acknowledgements one request waits for (counted on the producer's poll thread;
    ``on_done`` called there once, when the last one arrived)."""

    def __init__(self, expected: int, on_done: Callable[[], object] | None = None) -> None:
        self._left = expected
        self._lock = threading.Lock()
        self.errors: list[str] = []
        self.done = threading.Event()
        self._on_done = on_done
        if expected == 0:
            self._finish()

    def _finish(self) -> None:
        self.done.set()
        if self._on_done is not None:
            self._on_done()

    def __call__(self, error: str | None) -> None:
        with self._lock:
            if error is not None:
                self.errors.append(error)
            self._left -= 1
            last = self._left == 0
        if last:
            self._finish()


class Publisher:
    """Validated tasks to the input topic, acknowledged before ``publish`` returns.

    One producer per process, served by a poll thread (``start``/``close``), so many
    requests wait for their own acknowledgements at once."""

    def __init__(
        self,
        producer: KafkaProducer,
        topic: str,
        model: ModelSpec,
        validator: TaskValidator,
        timeout: float,
        *,
        framing: Framing | None = None,
    ) -> None:
        self._producer = producer
        self.topic = topic
        self.model = model
        self.validator = validator
        self._encoder = TaskEncoder(model, framing=framing)
        self._timeout = timeout
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="api-producer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.1)

    def encode(
        self, tasks: Sequence[DataPointTask], checked: bool = False
    ) -> list[tuple[bytes, bytes]]:
        """(key, value) of each task; ``LimitExceededError`` / ``InvalidDataPointError`` if a
        task is invalid or breaks a limit. ``checked``: every data-point already passed
        ``check_datapoint`` (``plan_tasks``), so only the grouped task's own limits (count,
        message size) are left to check."""
        limit = self.validator.limits.max_data_points
        messages = []
        for task in tasks:
            if not checked:
                self.validator.validate(task)
            elif len(task.data_points) > limit:
                raise LimitExceededError(
                    f"{task.etype} {task.eid}: task of {len(task.data_points)} data-points "
                    f"is over max_data_points={limit} (setting STREAMCORE_LIMITS__MAX_DATA_POINTS)"
                )
            data = self._encoder.encode(task)
            self.validator.check_message(len(data))
            messages.append((task.routing_key().encode(), data))
        return messages

    def publish(self, messages: Sequence[tuple[bytes, bytes]]) -> None:
        """Produce and wait for every acknowledgement; ``PublishError`` otherwise."""
        acks = _Acks(len(messages))
        self._producer.produce_all(self.topic, messages, acks)
        if not acks.done.wait(self._timeout):
            raise self._unacknowledged(len(messages))
        self._check(acks)

    async def publish_async(self, messages: Sequence[tuple[bytes, bytes]]) -> None:
        """``publish`` for the event loop: the request waits for one wake-up (sent by the
        poll thread when its last ack arrived), not a thread of its own."""
        loop = asyncio.get_running_loop()
        acked: asyncio.Future[None] = loop.create_future()

        def resolve() -> None:
            if not acked.done():  # not cancelled by the timeout
                acked.set_result(None)

        def wake() -> None:
            loop.call_soon_threadsafe(resolve)

        acks = _Acks(len(messages), wake)
        self._producer.produce_all(self.topic, messages, acks)
        try:
            await asyncio.wait_for(acked, self._timeout)
        except TimeoutError:
            raise self._unacknowledged(len(messages)) from None
        self._check(acks)

    def _unacknowledged(self, count: int) -> PublishError:
        return PublishError(f"Kafka did not acknowledge {count} task(s) within {self._timeout:g} s")

    @staticmethod
    def _check(acks: _Acks) -> None:
        if acks.errors:
            raise PublishError(f"Kafka refused the tasks: {acks.errors[0]}")

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        remaining = self._producer.flush(timeout)
        if remaining:
            log.warning("%d API messages were not delivered before close", remaining)
