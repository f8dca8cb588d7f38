"""Creating the application's topics, idempotently.

Roles and their names come from ``TopicSettings``. Every role gets the configured
partition count except ``control``, which has one partition so all workers see control
actions in the order they were sent, and ``control_acks`` (replicas' acknowledgements and
heartbeats, read whole by ``streamcore control``). The control topic keeps its messages
forever (a restarted replica re-reads it for the latest module configurations); the
acknowledgements are only needed for minutes and kept a day.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from streamcore.errors import StreamcoreError
from streamcore.settings import TopicSettings

TOPIC_ROLES = ("input", "control", "control_acks", "dead_letter", "snapshots", "snapshot_tasks")
SINGLE_PARTITION_ROLES = frozenset({"control", "control_acks"})
ROLE_CONFIGS: dict[str, dict[str, str]] = {
    "control": {"retention.ms": "-1"},
    "control_acks": {"retention.ms": str(24 * 3600 * 1000)},
}


@dataclass
class TopicReport:
    """What ``ensure_topics`` did: names created now and names that already existed."""

    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)


def planned_topics(topics: TopicSettings, app_name: str) -> dict[str, NewTopic]:
    """Topic name -> spec for every role of ``app_name``."""
    shared = {}
    if topics.min_insync_replicas is not None:
        shared["min.insync.replicas"] = str(topics.min_insync_replicas)
    return {
        topics.name(role, app_name): NewTopic(
            topics.name(role, app_name),
            num_partitions=1 if role in SINGLE_PARTITION_ROLES else topics.partitions,
            replication_factor=topics.replication_factor,
            config={**shared, **ROLE_CONFIGS.get(role, {})},
        )
        for role in TOPIC_ROLES
    }


def ensure_topics(
    admin: AdminClient, topics: TopicSettings, app_name: str, timeout: float = 30.0
) -> TopicReport:
    """Create the missing topics; existing ones are left as they are (not resized)."""
    planned = planned_topics(topics, app_name)
    existing = set(admin.list_topics(timeout=timeout).topics)
    report = TopicReport(existing=sorted(name for name in planned if name in existing))
    missing = [spec for name, spec in planned.items() if name not in existing]
    if not missing:
        return report
    futures = admin.create_topics(missing, operation_timeout=timeout, request_timeout=timeout)
    for name, future in futures.items():
        try:
            future.result()
            report.created.append(name)
        except KafkaException as exc:
            error = exc.args[0]
            if isinstance(error, KafkaError) and error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                report.existing.append(name)  # created concurrently by someone else
            else:
                raise StreamcoreError(f"can't create topic {name}: {error}") from exc
    report.created.sort()
    report.existing.sort()
    return report


def existing_topics(admin: AdminClient, timeout: float = 10.0) -> set[str]:
    """The cluster's topic names (a metadata request for all topics never creates one)."""
    return set(admin.list_topics(timeout=timeout).topics)
