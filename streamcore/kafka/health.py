"""Is the broker there? A metadata request answered by at least one broker."""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient


def broker_answers(
    client_config: dict[str, str | int | float | bool],
    timeout: float = 2.0,
    broker_id: int | None = None,
) -> bool:
    """True when a metadata request returns at least one broker within ``timeout``
    (with ``broker_id``: that broker among them, i.e. it has registered with the cluster)."""
    quiet: dict[str, Any] = {"log_level": 0, "logger": _quiet}
    admin = AdminClient({**client_config, **quiet})
    try:
        metadata = admin.list_topics(timeout=timeout)
    except KafkaException:
        return False
    if broker_id is not None:
        return broker_id in metadata.brokers
    return bool(metadata.brokers)


class _Quiet:
    def log(self, *_args: object, **_kwargs: object) -> None:
        """librdkafka's connection-refused chatter while we poll is expected."""


_quiet = _Quiet()
