"""``DataPointProducer``: the SDK for pushing data-points into a streamcore application.

Each task is validated against the model and the input limits (``streamcore.limits``,
the same check the worker applies), encoded (Avro single-object) and produced to the input
topic keyed by ``"<etype>:<eid>"``, so one entity always lands on one partition and its
tasks stay in order. An invalid task raises ``InvalidDataPointError`` (``LimitExceededError``
when over a limit) and nothing of it is sent. Delivery is asynchronous: failures reach
``on_error`` (default: logged) from ``poll()``/``flush()``/``close()``; ``close()`` (or
leaving the ``with`` block) flushes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from streamcore.codec.tasks import TaskEncoder
from streamcore.kafka.clients import DeliveryReport, make_producer
from streamcore.kafka.registry import topic_framing
from streamcore.limits import TaskValidator
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.model.modelspec import ModelSpec
from streamcore.settings import Settings

logger = logging.getLogger(__name__)

_POLL_EVERY = 1000  # serve delivery reports every this many messages


def _log_failure(report: DeliveryReport) -> None:
    logger.error("delivery to %s failed (key %r): %s", report.topic, report.key, report.error)


class DataPointProducer:
    """Validated, entity-keyed, idempotent production of ``DataPointTask``s."""

    def __init__(
        self,
        settings: Settings,
        app_name: str,
        model_spec: ModelSpec,
        *,
        on_error: Callable[[DeliveryReport], None] = _log_failure,
        on_delivery: Callable[[DeliveryReport], None] | None = None,
        topic: str | None = None,
        **producer_options: Any,
    ) -> None:
        self.topic = topic or settings.topics.name("input", app_name)
        self.model_spec = model_spec
        self.delivered = 0
        self.failed = 0
        self._on_error = on_error
        self._on_delivery = on_delivery
        self.validator = TaskValidator(model_spec, settings.limits.limits())
        self._encoder = TaskEncoder(model_spec, framing=topic_framing(settings, self.topic))
        self._producer = make_producer(settings.kafka, self._report, **producer_options)
        self._since_poll = 0

    def _report(self, report: DeliveryReport) -> None:
        if report.error is None:
            self.delivered += 1
        else:
            self.failed += 1
            self._on_error(report)
        if self._on_delivery is not None:
            self._on_delivery(report)

    def send(self, task: DataPointTask) -> None:
        """Validate, encode and queue ``task``; ``InvalidDataPointError`` if it is invalid."""
        self.validator.validate(task)
        data = self._encoder.encode(task)
        self.validator.check_message(len(data))
        self._producer.produce(self.topic, task.routing_key().encode(), data)
        self._since_poll += 1
        if self._since_poll >= _POLL_EVERY:
            self._since_poll = 0
            self._producer.poll(0)

    def send_datapoints(self, data_points: Iterable[DataPoint]) -> int:
        """Group data-points by entity (in order) into tasks and send them; returns tasks sent.

        Every task is validated before any is sent, so invalid input sends nothing.
        """
        tasks: dict[tuple[Any, Any], DataPointTask] = {}
        for dp in data_points:
            if dp.etype is None:
                raise ValueError("data-points sent without a task need etype and eid")
            key = (dp.etype, dp.eid)
            task = tasks.get(key)
            if task is None:
                task = tasks[key] = DataPointTask(dp.etype, dp.eid)
            task.data_points.append(dp)
        for task in tasks.values():
            self.validator.validate(task)
        for task in tasks.values():
            self.send(task)
        return len(tasks)

    def poll(self, timeout: float = 0.0) -> int:
        """Serve pending delivery reports."""
        return self._producer.poll(timeout)

    def flush(self, timeout: float | None = None) -> int:
        """Wait until everything queued is delivered or failed; returns the undelivered count."""
        self._since_poll = 0
        return self._producer.flush(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Flush; warn if messages remain undelivered after ``timeout``."""
        remaining = self.flush(timeout)
        if remaining:
            logger.warning("%d messages were not delivered before close", remaining)

    def __enter__(self) -> DataPointProducer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
