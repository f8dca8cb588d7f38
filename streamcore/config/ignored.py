"""Settings a DP³ configuration may hold that streamcore accepts but does not use.

An existing DP³ configuration directory loads unchanged, but a user who sets one of these
expects an effect; ``check-config`` lists each one present as a warning saying what takes
its place. Also warned: ``*.yml`` files DP³ does not define, and module configuration files
of modules that are not enabled (often a misspelled name).
"""

from __future__ import annotations

from typing import Any

from streamcore.config.loader import AppConfig
from streamcore.errors import ConfigProblem
from streamcore.model.suggest import did_you_mean

IGNORED_FILES = {
    "database": "MongoDB connection; streamcore stores in Cassandra (STREAMCORE_CASSANDRA__*)",
    "event_logging": "Redis event logging; streamcore counts events as Prometheus metrics",
    "api": "DP³'s API process settings; not used by streamcore",
    "telemetry": "DP³'s telemetry; streamcore serves Prometheus /metrics",
    "common": "an old DP³ layout's shared file; not used by streamcore",
}
"""Whole files DP³ reads and streamcore does not, with what to use instead."""

IGNORED_KEYS: dict[tuple[str, str], str] = {
    ("processing_core", "msg_broker"): "RabbitMQ; streamcore uses Kafka (STREAMCORE_KAFKA__*)",
    ("processing_core", "worker_threads"): "a worker processes one batch at a time",
    ("processing_core", "max_inline_generated_tasks"): "derived tasks always go to the input topic",
    ("history_manager", "datapoint_cleaning_schedule"): (
        "old data-points expire by Cassandra TTL from the attribute's max_age"
    ),
    ("history_manager", "mark_datapoints_schedule"): "deprecated in DP³",
    ("history_manager", "datapoint_archivation"): "expired data-points are not archived",
    ("updater", "cache_management_cron"): "the updater keeps no cache to clean",
    ("updater", "cache_max_entries"): "the updater keeps no cache to clean",
}
"""Keys of the typed sections that are parsed (so an old file loads) and never read."""

NESTED_IGNORED: dict[tuple[str, str, str], str] = {
    ("history_manager", "snapshot_cleaning", "schedule"): (
        "snapshots expire by Cassandra TTL after older_than"
    ),
}

KNOWN_FILES = {
    "processing_core",
    "snapshots",
    "history_manager",
    "updater",
    "control",
    "garbage_collector",
    "db_entities",
    "modules",
}


def ignored_settings(config: AppConfig) -> list[ConfigProblem]:
    """Warnings for every accepted-but-ignored setting present in ``config``'s files."""
    raw: dict[str, Any] = dict(config.raw)
    warnings = [
        ConfigProblem(f"{name}.yml", "", f"accepted and ignored: {why}")
        for name, why in IGNORED_FILES.items()
        if name in raw
    ]
    for (section, key), why in IGNORED_KEYS.items():
        if key in (raw.get(section) or {}):
            warnings.append(ConfigProblem(f"{section}.yml", key, f"accepted and ignored: {why}"))
    for (section, key, inner), why in NESTED_IGNORED.items():
        if inner in ((raw.get(section) or {}).get(key) or {}):
            warnings.append(
                ConfigProblem(f"{section}.yml", f"{key}.{inner}", f"accepted and ignored: {why}")
            )
    warnings.extend(_unknown_spec_keys(config))
    warnings.extend(_unknown_file_keys(raw))
    warnings.extend(_unstorable_attributes(config))
    known = KNOWN_FILES | IGNORED_FILES.keys()
    for name in sorted(raw.keys() - known):
        warnings.append(
            ConfigProblem(
                f"{name}.yml",
                "",
                "not a DP³ configuration file; only modules read it (PlatformConfig.config)"
                + did_you_mean(name, known),
            )
        )
    enabled = config.processing_core.enabled_modules
    for name in sorted(config.modules.keys() - set(enabled)):
        warnings.append(
            ConfigProblem(
                f"modules/{name}.yml",
                "",
                "configuration of a module that is not enabled" + did_you_mean(name, enabled),
            )
        )
    return warnings


def _unstorable_attributes(config: AppConfig) -> list[ConfigProblem]:
    """Timeseries DP³ accepts but can't store data-points of (no series, or regular
    without time_step): accepted, and every data-point of theirs refused."""
    from streamcore.model.spec import AttrSpecTimeseries

    return [
        ConfigProblem(
            f"db_entities ({etype})",
            f"attribs.{attr}",
            f"{spec.unstorable}: accepted as DP³ accepts it, but every data-point of it is refused",
        )
        for (etype, attr), spec in sorted(config.model_spec.attributes.items())
        if isinstance(spec, AttrSpecTimeseries) and spec.unstorable is not None
    ]


def _unknown_file_keys(raw: dict[str, Any]) -> list[ConfigProblem]:
    """Unknown top-level keys of the platform's files, which DP³ accepts (a typo, mostly)."""
    from streamcore.config.sections import SECTIONS

    found = []
    for name, section in SECTIONS.items():
        content = raw.get(name)
        if not isinstance(content, dict):
            continue
        fields = list(section.model_fields)
        known = set(fields) | {
            (ignored_key) for (file, ignored_key) in IGNORED_KEYS if file == name
        }
        for key in sorted(str(k) for k in content.keys() - known):
            found.append(
                ConfigProblem(
                    f"{name}.yml",
                    key,
                    "unknown key, ignored (as DP³ ignores it)" + did_you_mean(key, fields),
                )
            )
    return found


def _unknown_spec_keys(config: AppConfig) -> list[ConfigProblem]:
    """Unknown keys in history_params, timeseries_params and series, which DP³ ignores."""
    found = []
    for (etype, attr), spec in config.model_spec.attributes.items():
        parts: list[tuple[str, Any]] = [
            ("history_params", getattr(spec, "history_params", None)),
            ("timeseries_params", getattr(spec, "timeseries_params", None)),
        ]
        parts += [
            (f"series.{name}", s) for name, s in (getattr(spec, "series", None) or {}).items()
        ]
        for where, part in parts:
            for key in getattr(part, "model_extra", None) or {}:
                found.append(
                    ConfigProblem(
                        f"db_entities ({etype})",
                        f"attribs.{attr}.{where}.{key}",
                        "unknown key, ignored (as DP³ ignores it)",
                    )
                )
    return found


def max_items_notes(config: AppConfig, enforced: bool) -> list[ConfigProblem]:
    """A warning per observation attribute with ``max_items``: DP³ documents it as not
    implemented and keeps every row, and so does streamcore unless
    ``STREAMCORE_WORKER__ENFORCE_MAX_ITEMS`` opts in to keeping only the newest rows."""
    from streamcore.model.spec import AttrSpecObservations

    if enforced:
        effect = "enforced (STREAMCORE_WORKER__ENFORCE_MAX_ITEMS): older rows are removed"
    else:
        effect = (
            "not enforced, as in DP³: every row is kept "
            "(STREAMCORE_WORKER__ENFORCE_MAX_ITEMS=true keeps only the newest)"
        )
    return [
        ConfigProblem(
            f"db_entities ({etype})",
            f"{attr}.history_params.max_items",
            f"max_items={spec.history_params.max_items} {effect}",
        )
        for (etype, attr), spec in sorted(config.model_spec.attributes.items())
        if isinstance(spec, AttrSpecObservations)
        and spec.history_params is not None
        and spec.history_params.max_items is not None
    ]
