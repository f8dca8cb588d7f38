"""Commands for the application's data: ``check-config``, ``setup`` and ``produce``."""

from __future__ import annotations

import io
import os
import stat
import sys
from collections.abc import Iterable
from typing import Any, TextIO

import click

from streamcore.config import AppConfig, load_config
from streamcore.errors import ConfigError, InvalidDataPointError
from streamcore.settings import Settings
from streamcore.setup_steps import SETUP_STEPS, SetupStep

app_name_option = click.option(
    "--app-name",
    envvar="STREAMCORE_APP_NAME",
    default="streamcore",
    show_default=True,
    help="Application name; topic names derive from it (env STREAMCORE_APP_NAME).",
)


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
@click.option(
    "--against",
    metavar="APP",
    help="Also compare the model with the one application APP stored at setup and list what "
    "each change needs (exit status 1 if a change leaves stored data unreadable).",
)
def check_config(config_dir: str, app_name: str, against: str | None) -> None:
    """Check a DP³ configuration directory; list every problem (file: key path: message).

    Every file is validated, then the enabled modules are loaded in a dry run (imported,
    constructed with the real registrar, their hooks registered; ``start()`` is not
    called): a module that would not load is reported as ``file:line: message``. Settings
    that are accepted but ignored are listed as warnings. Exit status 1 if any error.
    """
    from streamcore.config.ignored import ignored_settings, max_items_notes
    from streamcore.config.loader import missing_modules_dir
    from streamcore.module.check import dry_run_modules

    dp3 = Settings().dp3_compat

    config = load_config_or_exit(config_dir)
    for warning in ignored_settings(config):
        click.echo(f"warning: {warning}", err=True)
    for warning in max_items_notes(config, Settings().worker.enforce_max_items):
        click.echo(f"warning: {warning}", err=True)
    no_modules_dir = missing_modules_dir(config)
    if no_modules_dir is not None:
        click.echo(f"warning: {no_modules_dir}", err=True)
    problems = [] if no_modules_dir else dry_run_modules(config, app_name, dp3_compat=dp3)
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        if not dp3 and any("No module named 'dp3" in p.message for p in problems):
            click.echo("hint: DP³ modules load with STREAMCORE_DP3_COMPAT=true", err=True)
        click.echo(f"{len(problems)} problem(s) loading the modules of {config_dir}", err=True)
        sys.exit(1)
    model = config.model_spec
    click.echo(
        f"OK: {len(model.entities)} entity types, {len(model.attributes)} attributes, "
        f"{len(config.modules)} module configs, "
        f"{len(config.processing_core.enabled_modules)} enabled modules "
        + ("(not loaded: no modules_dir)" if no_modules_dir else "(loaded in a dry run)")
    )
    if against is not None:
        from streamcore.cli.model import echo_changes, pending_changes

        changes = pending_changes(Settings(), against, config)
        if changes is None:
            click.echo(f"model: {against} has no stored model (set it up with streamcore setup)")
            sys.exit(1)
        echo_changes(changes, against)
        if any(not change.safe for change in changes):
            sys.exit(1)


@click.command()
@click.argument("config_dir", type=click.Path(exists=True, file_okay=False))
@app_name_option
@click.option(
    "--accept-unreadable",
    is_flag=True,
    help="Apply model changes that leave stored data unreadable (removed or retyped "
    "attributes and entity types).",
)
def setup(config_dir: str, app_name: str, accept_unreadable: bool) -> None:
    """Create the application's topics, keyspace and tables, leaving what already exists.

    The keyspace (default: derived from the app name) is claimed for the application;
    setup refuses (exit 1) a keyspace another application owns. The model is stored; when
    one was stored before, the changes are listed: safe ones are applied, unsafe ones
    (stored data would become unreadable) refused unless --accept-unreadable.
    """
    from streamcore.cli.model import echo_changes, pending_changes
    from streamcore.errors import SchemaRegistryError
    from streamcore.state.setup import KeyspaceOwnedError

    config = load_config_or_exit(config_dir)
    settings = Settings()
    changes = pending_changes(settings, app_name, config)
    if changes is not None:
        echo_changes(changes, app_name)
        if any(not change.safe for change in changes) and not accept_unreadable:
            click.echo(
                "error: unsafe model changes (listed above); nothing was changed. Migrate or "
                "accept the loss with --accept-unreadable",
                err=True,
            )
            sys.exit(1)
    for step in SETUP_STEPS:
        try:
            lines = step(settings, app_name, config)
        except (KeyspaceOwnedError, SchemaRegistryError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        for line in lines:
            click.echo(line)


@click.command()
@click.argument("config_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("source", type=click.File("r", encoding="utf-8"), default="-")
@app_name_option
@click.option("--batch", default=1000, show_default=True, help="Data-points grouped per send.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="A progress bar on stderr (default: when stderr is a terminal and SOURCE a file).",
)
def produce(
    config_dir: str, source: TextIO, app_name: str, batch: int, progress: bool | None
) -> None:
    """Send data-points in DP³'s JSON format (array or JSON lines) from SOURCE (default stdin).

    The input is read as a stream (time linear in its size, memory bounded whatever the
    size). Each bad item (breaking the model or an input limit, see STREAMCORE_LIMITS__*)
    is reported with its line number and skipped; the rest are sent, the data-points of
    each --batch grouped into one message (task) per entity. Exit status 1 if any item was
    rejected or not delivered.
    """
    from streamcore.codec.dp3json import stream_items
    from streamcore.kafka.clients import make_admin
    from streamcore.kafka.topics import existing_topics

    config = load_config_or_exit(config_dir)
    settings = Settings()
    topic = settings.topics.name("input", app_name)
    if topic not in existing_topics(make_admin(settings.kafka)):
        click.echo(
            f"error: topic {topic} does not exist; create the application's topics first:\n"
            f"  streamcore setup {config_dir} --app-name {app_name}",
            err=True,
        )
        sys.exit(1)
    size = _file_size(source)
    show = progress if progress is not None else size is not None and sys.stderr.isatty()
    with click.progressbar(
        length=size or 0, label="producing", file=sys.stderr, hidden=not show
    ) as bar:
        counts = _send_items(
            settings, app_name, config, stream_items(source, on_read=bar.update), batch
        )
    click.echo(counts.summary(topic))
    if counts.rejected or counts.failed:
        sys.exit(1)


class ProduceCounts:
    """What ``produce`` did, for its summary line: data-points and messages are not the
    same count (one message carries every data-point of an entity in a batch)."""

    def __init__(self) -> None:
        self.data_points = self.messages = self.rejected = self.delivered = self.failed = 0

    def summary(self, topic: str) -> str:
        return (
            f"sent {self.data_points} data-points in {self.messages} messages to {topic} "
            f"({self.delivered} messages delivered, {self.failed} failed); "
            f"rejected {self.rejected} data-points"
        )


def _send_items(
    settings: Settings, app_name: str, config: AppConfig, items: Iterable[Any], batch: int
) -> ProduceCounts:
    from streamcore.model.datapoint import DataPoint, DataPointTask
    from streamcore.producer import DataPointProducer

    counts = ProduceCounts()
    pending: list[DataPoint] = []
    with DataPointProducer(settings, app_name, config.model_spec) as producer:

        def send_pending() -> None:
            tasks: dict[tuple[str, object], DataPointTask] = {}
            for dp in pending:
                key = (str(dp.etype), dp.eid)
                tasks.setdefault(key, DataPointTask(str(dp.etype), dp.eid)).data_points.append(dp)
            for task in tasks.values():
                try:  # the grouped task may still be over the message limit
                    producer.send(task)
                    counts.messages += 1
                    counts.data_points += len(task.data_points)
                except InvalidDataPointError as exc:
                    counts.rejected += len(task.data_points)
                    click.echo(f"{task.etype} {task.eid}: {exc}", err=True)
            pending.clear()

        for item in items:
            dp, error = item.data_point, item.error
            if dp is not None:
                try:  # validate alone, so one bad item never takes others down with it
                    producer.validator.validate(DataPointTask(str(dp.etype), dp.eid, [dp]))
                except InvalidDataPointError as exc:
                    error = str(exc)
            if dp is None or error is not None:
                counts.rejected += 1
                click.echo(f"line {item.line}: {error}", err=True)
                continue
            pending.append(dp)
            if len(pending) >= batch:
                send_pending()
        send_pending()
    counts.delivered, counts.failed = producer.delivered, producer.failed
    return counts


def _file_size(source: TextIO) -> int | None:
    """The size of a regular file (for the progress bar); None for a pipe or a terminal."""
    try:
        status = os.fstat(source.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


__all__ = ["SETUP_STEPS", "SetupStep", "check_config", "produce", "setup"]
