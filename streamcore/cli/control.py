"""``streamcore control ACTION CONFIG_DIR``: send a control action and wait for the replicas."""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from streamcore.control.sender import SendResult

from streamcore.cli.data import app_name_option, load_config_or_exit
from streamcore.settings import Settings

EXIT_FAILED = 1
EXIT_MISSING = 2


@click.command()
@click.argument("action")
@click.argument("config_dir", type=click.Path(exists=True, file_okay=False))
@app_name_option
@click.option("--module", help="refresh_module_config: the module to reconfigure.")
@click.option("--etype", help="refresh_on_entity_creation: the entity type.")
@click.option(
    "--module-config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="refresh_module_config: YAML/JSON file with the new config "
    "(default: CONFIG_DIR/modules/<module>.yml).",
)
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Wait until every live replica acknowledged.",
)
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for acks.")
def control(  # click passes the options by name
    *,
    action: str,
    config_dir: str,
    app_name: str,
    module: str | None,
    etype: str | None,
    module_config: Path | None,
    wait: bool,
    timeout: float,
) -> None:
    """Send ACTION (refresh_module_config, reset_module_config, refresh_on_entity_creation,
    make_snapshots, ping, or status) to every replica of the application, and wait for
    their acknowledgements.

    ``status`` is a ping that prints, per replica, which configuration version each
    module runs and where it came from (its file, a control message, a reset).

    Live replicas are those whose heartbeat on <app>.control-acks is recent: ingestion
    workers, snapshot workers, schedulers and API processes all take part. It prints each replica's
    answer, then per role which replicas applied, skipped or failed it. Exit status:
    0 all acknowledged, 1 a replica failed to apply it, 2 some did not answer in time
    (they are named).
    """
    from streamcore.control.request import ControlRequestError, build_message
    from streamcore.control.sender import ControlSender
    from streamcore.control.signing import ControlSignature
    from streamcore.kafka.clients import DeliveryReport, make_producer
    from streamcore.kafka.consumer import Headers
    from streamcore.kafka.reader import TopicReader

    config = load_config_or_exit(config_dir)
    settings = Settings()
    status = action == "status"
    try:
        message, key = build_message(
            config,
            Path(config_dir),
            "ping" if status else action,
            module=module,
            etype=etype,
            module_config_file=module_config,
        )
    except ControlRequestError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    topic = settings.topics.name("control", app_name)
    window = timedelta(
        seconds=settings.control.heartbeat_seconds * settings.control.live_heartbeats
    )
    reports: list[DeliveryReport] = []
    producer = make_producer(settings.kafka, reports.append, **{"linger.ms": 0})

    def send(key_bytes: bytes, value: bytes, headers: Headers) -> DeliveryReport:
        producer.produce(topic, key_bytes, value, headers)
        producer.flush(30)
        return reports[-1]

    start_ms = int((time.time() - window.total_seconds()) * 1000)
    acks = TopicReader(
        settings.kafka.client_config(), settings.topics.name("control_acks", app_name), start_ms
    )
    try:
        signature = ControlSignature.from_settings(settings.control, topic)
        sender = ControlSender(send, acks, window, signature)
        result = sender.send(message, key, wait=wait, timeout=timeout)
    finally:
        acks.close()
    version = f", config version {result.offset + 1}" if module else ""
    click.echo(f"sent {message.action.value} to {topic} (offset {result.offset}{version})")
    if not wait:
        return
    _report(result, status, timeout)


def _report(result: SendResult, status: bool, timeout: float) -> None:
    """Each replica's answer, then per role; exits 1 or 2 as the command's doc says."""
    for replica, ack in sorted(result.acks.items()):
        if status:
            click.echo(f"  {replica} ({ack.role}):")
            for line in ack.detail.removeprefix("pong").removeprefix(": ").split("; "):
                click.echo(f"    {line}")
            continue
        click.echo(f"  {replica} ({ack.role}): {ack.outcome.value}: {ack.detail}")
    for replica in sorted(result.left):
        click.echo(f"  {replica} ({result.awaited[replica]}): left before answering")
    for role, outcomes in result.by_role().items():
        counts = "; ".join(
            f"{outcome} by {', '.join(names)}" for outcome, names in outcomes.items()
        )
        click.echo(f"{role}: {counts}")
    if result.missing:
        names = ", ".join(f"{r} ({result.awaited[r]})" for r in result.missing)
        click.echo(f"no acknowledgement within {timeout:g} s from: {names}", err=True)
        sys.exit(EXIT_MISSING)
    if not result.awaited:
        click.echo("no live replicas (no recent heartbeats on the ack topic)")
    if result.failed:
        click.echo(f"failed on: {', '.join(result.failed)}", err=True)
        sys.exit(EXIT_FAILED)
    click.echo(f"acknowledged by all {len(result.awaited)} live replicas")
