"""Typed sections of a DP³ configuration directory (everything but ``db_entities``).

Unknown keys are errors so a typo is reported by ``check-config`` rather than silently
ignored; keys DP³ has that streamcore does not use (RabbitMQ ``msg_broker``, deprecated
schedules) are accepted and ignored so an existing DP³ configuration loads unchanged.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, NonNegativeInt, PositiveInt

from streamcore.model.spec import Duration

_CRON_FIELD = re.compile(r"^((\d+,)+\d+|(\d+-\d+)|\d+|(\*/\d+)|\*)$")


def _cron_check(low: int, high: int) -> Any:
    """A cron field: an int in ``low..high`` or text: ``5``, ``1-5``, ``1,2``, ``*/15``, ``*``."""

    def check(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a cron field")
        if isinstance(value, int):
            if not low <= value <= high:
                raise ValueError(f"{value} is outside {low}..{high}")
            return value
        if isinstance(value, str) and _CRON_FIELD.match(value):
            return value
        raise ValueError(f"{value!r} is not a cron field (e.g. 5, 1-5, 1,2,3, */15, *)")

    return check


Second = Annotated[int | str | None, BeforeValidator(_cron_check(0, 59))]
Minute = Second
Hour = Annotated[int | str | None, BeforeValidator(_cron_check(0, 23))]
Day = Annotated[int | str | None, BeforeValidator(_cron_check(1, 31))]
DayOfWeek = Annotated[int | str | None, BeforeValidator(_cron_check(0, 6))]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileSection(Section):
    """A whole configuration file: unknown keys are accepted, as ``dp3 check`` accepts
    them, and reported by ``check-config`` as warnings (``config.ignored``). Nested parts
    (cron expressions) stay strict: DP³ would fail on them when the schedule starts."""

    model_config = ConfigDict(extra="allow", frozen=True)


class CronExpression(Section):
    """A schedule as DP³ writes it: ``{minute: "*/30"}``; missing fields mean "*" above the
    smallest given unit and 0 below it (as APScheduler, which DP³ uses)."""

    second: Second = None
    minute: Minute = None
    hour: Hour = None
    day: Day = None
    day_of_week: DayOfWeek = None
    week: Annotated[int, Field(ge=1, le=53)] | None = None
    month: Annotated[int, Field(ge=1, le=12)] | None = None
    year: Annotated[str, Field(pattern=r"^\d{4}$")] | None = None
    timezone: str = "UTC"


class ProcessingCoreConfig(FileSection):
    """``processing_core.yml``: worker count and which modules run."""

    worker_processes: PositiveInt = 1
    worker_threads: PositiveInt = 16
    max_inline_generated_tasks: NonNegativeInt = 0
    modules_dir: str = "../modules"
    enabled_modules: list[str] = Field(default_factory=list)
    msg_broker: dict[str, Any] | None = Field(
        default=None, description="DP³'s RabbitMQ settings; accepted and ignored."
    )


class SnapshotsConfig(FileSection):
    """``snapshots.yml``: when snapshots are made."""

    creation_rate: CronExpression = CronExpression(minute="*/30")
    keep_empty: bool = True


class SnapshotCleaning(Section):
    schedule: CronExpression | None = Field(
        default=None, description="DP³'s cleaning schedule; accepted and ignored (TTL)."
    )
    older_than: Duration


class DatapointArchivation(Section):
    schedule: CronExpression
    older_than: Duration
    archive_dir: str | None = None


class HistoryManagerConfig(FileSection):
    """``history_manager.yml``: aggregation and clean-up schedules."""

    aggregation_schedule: CronExpression = CronExpression(minute="*/10")
    datapoint_cleaning_schedule: CronExpression = CronExpression(minute="*/30")
    mark_datapoints_schedule: CronExpression | None = Field(
        default=None, description="Deprecated in DP³; accepted and ignored."
    )
    snapshot_cleaning: SnapshotCleaning = SnapshotCleaning(
        schedule=CronExpression(minute="15,45"), older_than=timedelta(days=7)
    )
    datapoint_archivation: DatapointArchivation | None = None


class UpdaterConfig(FileSection):
    """``updater.yml``: periodic update hooks."""

    update_batch_cron: CronExpression = CronExpression(minute="*/5", second="0")
    update_batch_period: Duration = timedelta(minutes=5)
    cache_management_cron: CronExpression = CronExpression(hour="2", minute="0", second="0")
    cache_max_entries: PositiveInt = 32


ControlActionName = Literal["make_snapshots", "refresh_on_entity_creation", "refresh_module_config"]


class ControlConfig(FileSection):
    """``control.yml``: which control actions may be sent."""

    allowed_actions: list[ControlActionName] = Field(default_factory=list)


class GarbageCollectorConfig(FileSection):
    """``garbage_collector.yml`` (DP³'s): when the collector runs."""

    collection_rate: CronExpression = CronExpression(hour="3", minute="0", second="0")

    @classmethod
    def from_raw(cls, raw: Any) -> GarbageCollectorConfig:
        return cls.model_validate(raw or {})


SECTIONS: dict[str, type[Section]] = {
    "processing_core": ProcessingCoreConfig,
    "snapshots": SnapshotsConfig,
    "history_manager": HistoryManagerConfig,
    "updater": UpdaterConfig,
    "control": ControlConfig,
    "garbage_collector": GarbageCollectorConfig,
}
