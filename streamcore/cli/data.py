"""Commands for the application's data: ``check-config``, ``setup`` and ``produce``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

import click

from streamcore.config import AppConfig, load_config
from streamcore.errors import ConfigError, InvalidDataPointError
from streamcore.settings import Settings

app_name_option = click.option(
    "--app-name",
    envvar="STREAMCORE_APP_NAME",
    default="streamcore",
    show_default=True,
    help="Application name; topic names derive from it (env STREAMCORE_APP_NAME).",
)

SetupStep = Callable[[Settings, str, AppConfig], list[str]]
"""One part of ``streamcore setup``: creates what it owns (idempotently), returns report lines."""


def _topics_step(settings: Settings, app_name: str, config: AppConfig) -> list[str]:
    from streamcore.kafka.clients import make_admin
    from streamcore.kafka.topics import ensure_topics

    report = ensure_topics(make_admin(settings.kafka), settings.topics, app_name)
    return [f"topic {name}: created" for name in report.created] + [
        f"topic {name}: exists" for name in report.existing
    ]


def _cassandra_step(settings: Settings, app_name: str, config: AppConfig) -> list[str]:
    from streamcore.state.setup import cassandra_setup_step

    return cassandra_setup_step(settings, app_name, config)


SETUP_STEPS: list[SetupStep] = [_topics_step, _cassandra_step]
"""Run in order by ``setup``: Kafka topics, then the Cassandra keyspace and tables."""


def load_config_or_exit(config_dir: str) -> AppConfig:
    try:
        return load_config(config_dir)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"{len(exc.problems)} problem(s) in {config_dir}", err=True)
        sys.exit(1)


@click.command("check-config")
@click.argument("config_dir", type=click.Path(file_okay=False))
@app_name_option
def check_config(config_dir: str, app_name: str) -> None:
    """Check a DP³ configuration directory; list every problem (file: key path: message).

    Every file is validated, then the enabled modules are loaded in a dry run (imported,
    constructed with the real registrar, their hooks registered; ``start()`` is not
    called): a module that would not load is reported as ``file:line: message``. Settings
    that are accepted but ignored are listed as warnings. Exit status 1 if any error.
    """
    from streamcore.config.ignored import ignored_settings
    from streamcore.module.check import dry_run_modules

    config = load_config_or_exit(config_dir)
    for warning in ignored_settings(config):
        click.echo(f"warning: {warning}", err=True)
    problems = dry_run_modules(config, app_name, dp3_compat=Settings().dp3_compat)
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) loading the modules of {config_dir}", err=True)
        sys.exit(1)
    model = config.model_spec
    click.echo(
        f"OK: {len(model.entities)} entity types, {len(model.attributes)} attributes, "
        f"{len(config.modules)} module configs, "
        f"{len(config.processing_core.enabled_modules)} enabled modules (loaded in a dry run)"
    )


@click.command()
@click.argument("config_dir", type=click.Path(exists=True, file_okay=False))
@app_name_option
def setup(config_dir: str, app_name: str) -> None:
    """Create the application's topics, keyspace and tables, leaving what already exists.

    The keyspace (default: derived from the app name) is claimed for the application;
    setup refuses (exit 1) a keyspace another application owns.
    """
    from streamcore.state.setup import KeyspaceOwnedError

    config = load_config_or_exit(config_dir)
    settings = Settings()
    for step in SETUP_STEPS:
        try:
            lines = step(settings, app_name, config)
        except KeyspaceOwnedError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        for line in lines:
            click.echo(line)


@click.command()
@click.argument("config_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("source", type=click.File("r", encoding="utf-8"), default="-")
@app_name_option
@click.option("--batch", default=1000, show_default=True, help="Data-points grouped per send.")
def produce(config_dir: str, source: TextIO, app_name: str, batch: int) -> None:
    """Send data-points in DP³'s JSON format (array or JSON lines) from SOURCE (default stdin).

    Each bad item (breaking the model or an input limit, see STREAMCORE_LIMITS__*) is
    reported with its line number and skipped; the rest are sent, grouped into one task per
    entity. Exit status 1 if any item was rejected.
    """
    from streamcore.codec.dp3json import read_items
    from streamcore.model.datapoint import DataPoint, DataPointTask
    from streamcore.producer import DataPointProducer

    config = load_config_or_exit(config_dir)
    model = config.model_spec
    rejected = sent = 0
    pending: list[DataPoint] = []
    with DataPointProducer(Settings(), app_name, model) as producer:

        def send_pending() -> None:
            tasks: dict[tuple[str, object], DataPointTask] = {}
            for dp in pending:
                key = (str(dp.etype), dp.eid)
                tasks.setdefault(key, DataPointTask(str(dp.etype), dp.eid)).data_points.append(dp)
            for task in tasks.values():
                try:  # the grouped task may still be over the message limit
                    producer.send(task)
                except InvalidDataPointError as exc:
                    nonlocal rejected, sent
                    rejected += len(task.data_points)
                    sent -= len(task.data_points)
                    click.echo(f"{task.etype} {task.eid}: {exc}", err=True)
            pending.clear()

        for item in read_items(source.read()):
            dp, error = item.data_point, item.error
            if dp is not None:
                try:  # validate alone, so one bad item never takes others down with it
                    producer.validator.validate(DataPointTask(str(dp.etype), dp.eid, [dp]))
                except InvalidDataPointError as exc:
                    error = str(exc)
            if dp is None or error is not None:
                rejected += 1
                click.echo(f"line {item.line}: {error}", err=True)
                continue
            pending.append(dp)
            sent += 1
            if len(pending) >= batch:
                send_pending()
        send_pending()
    click.echo(
        f"sent {sent} data-points to {producer.topic} "
        f"({producer.delivered} delivered, {producer.failed} failed); rejected {rejected}"
    )
    if rejected or producer.failed:
        sys.exit(1)


__all__ = ["SETUP_STEPS", "SetupStep", "check_config", "produce", "setup"]
