"""``/telemetry/...``: DP³'s telemetry paths, answered from streamcore's own records.

- ``sources_validity`` / ``sources_age``: the newest ``t2`` per source of the data-points
  this API accepted (``source_validity`` table; data-points produced by other means, such
  as the producer SDK or hooks, are not seen here);
- ``entities_per_attr``, ``attribute_bson_sizes``: from the latest snapshots (a bounded
  scan; sizes are the stored JSON sizes, where DP³ reports BSON sizes);
- ``snapshot_summary``: snapshot runs (``snapshot_runs``); ``metadata``: those and the
  periodic updater's progress (``updater_progress``);
- ``rabbitmq/queues``: where DP³ reports RabbitMQ queues, the consumer groups' Kafka lag.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import NonNegativeInt

from streamcore.api.services import ApiServices


def router(services: ApiServices) -> APIRouter:
    api = APIRouter()
    model = services.config.model_spec
    scan_limit = services.settings.api.scan_limit

    def scan(etype: str) -> Any:
        for read, row in enumerate(services.reads.latest(etype), start=1):
            if read > scan_limit:
                return
            yield row

    @api.get("/sources_validity")
    def get_sources_validity() -> dict[str, datetime]:
        """The newest ``t2`` of each source's data-points."""
        return services.reads.sources_validity()

    @api.get("/sources_age")
    def get_sources_age(unit: Literal["minutes", "seconds"] = "minutes") -> dict[str, int]:
        """Age of each source's newest data-point, in ``unit``."""
        now = datetime.now(UTC)
        divider = 60 if unit == "minutes" else 1
        return {
            src: int((now - t).total_seconds() // divider)
            for src, t in services.reads.sources_validity().items()
        }

    @api.get("/entities_per_attr")
    def get_entities_per_attr() -> dict[str, dict[str, int]]:
        """Entities with a current value of each attribute (latest snapshots)."""
        result: dict[str, dict[str, int]] = {}
        for etype, attrs in model.entity_attributes.items():
            counts = dict.fromkeys(attrs, 0)
            for _, _, doc in scan(etype):
                for attr in counts:
                    if doc.get(attr) is not None:
                        counts[attr] += 1
            result[etype] = counts
        return result

    @api.get("/attribute_bson_sizes")
    def get_attribute_bson_sizes() -> dict[str, dict[str, Any]]:
        """Stored size of each attribute's current values (JSON bytes) per entity type."""
        import json

        result: dict[str, dict[str, Any]] = {}
        for etype, attrs in model.entity_attributes.items():
            started = time.perf_counter()
            sizes = {attr: {"count": 0, "total_bytes": 0, "max_bytes": 0} for attr in attrs}
            for _, _, doc in scan(etype):
                for attr, stats in sizes.items():
                    if doc.get(attr) is None:
                        continue
                    size = len(json.dumps(doc[attr]).encode())
                    stats["count"] += 1
                    stats["total_bytes"] += size
                    stats["max_bytes"] = max(stats["max_bytes"], size)
            result[etype] = {
                "calculated_at": datetime.now(UTC),
                "duration_s": time.perf_counter() - started,
                "attributes": sizes,
            }
        return result

    @api.get("/snapshot_summary")
    def get_snapshot_summary() -> dict[str, Any]:
        """Age of the latest started and the latest finished snapshot run."""
        runs = sorted(services.reads.snapshot_runs(), key=lambda run: run["run"], reverse=True)
        now = datetime.now(UTC)
        summary: dict[str, Any] = {
            "latest_age": None,
            "finished_age": None,
            "entities": None,
            "total_s": None,
        }
        if runs:
            summary["latest_age"] = (now - runs[0]["run"]).total_seconds()
        finished = [run for run in runs if run["tasks_done"] >= run["tasks"]]
        if finished:
            summary["finished_age"] = (now - finished[0]["run"]).total_seconds()
            summary["entities"] = finished[0]["entities"]
        return summary

    @api.get("/metadata")
    def get_metadata(
        module: str | None = None,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        skip: NonNegativeInt = 0,
        limit: NonNegativeInt = 0,
        sort: Literal["newest", "oldest"] = "newest",
    ) -> list[dict[str, Any]]:
        """streamcore's run records, filtered: snapshot runs (module ``SnapShooter``) and the
        periodic updater's threads (module ``Updater``, timed by their round's start)."""
        docs = [
            {"module": "SnapShooter", "#time_created": run["run"], **run}
            for run in services.reads.snapshot_runs()
        ] + [
            {"module": "Updater", "#time_created": thread["started"], **thread}
            for thread in services.reads.updater_progress()
            if thread["started"] is not None
        ]
        if module is not None:
            docs = [doc for doc in docs if doc["module"] == module]
        if date_from is not None:
            docs = [doc for doc in docs if doc["#time_created"] >= _aware(date_from)]
        if date_to is not None:
            docs = [doc for doc in docs if doc["#time_created"] <= _aware(date_to)]
        docs.sort(key=lambda doc: doc["#time_created"], reverse=sort == "newest")
        return docs[skip : skip + limit] if limit else docs[skip:]

    @api.get("/rabbitmq/queues")
    def get_rabbitmq_queues() -> dict[str, Any]:
        """Kafka lag of the ingestion and snapshot consumer groups (DP³: RabbitMQ queues)."""
        settings, app = services.settings, services.app_name
        groups = [
            (settings.worker.consumer_group or f"{app}.ingest", settings.topics.name("input", app)),
            (
                settings.snapshots.consumer_group or f"{app}.snapshots",
                settings.topics.name("snapshot_tasks", app),
            ),
        ]
        try:
            queues = [services.lag(group, topic) for group, topic in groups]
        except RuntimeError as exc:
            raise HTTPException(503, f"Kafka telemetry unavailable: {exc}") from exc
        return {"queues": [{"name": q["topic"], "queue": q["group"], **q} for q in queues]}

    return api


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
