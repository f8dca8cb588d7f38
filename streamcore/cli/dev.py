"""``streamcore dev``: the local Kafka and Cassandra used by the quick start and the tests."""

from __future__ import annotations

import sys

import click

from streamcore.dev import DevServers
from streamcore.dev.servers import SERVER_NAMES
from streamcore.errors import DevServerError

_which = click.argument("names", nargs=-1, type=click.Choice(SERVER_NAMES))


@click.group()
def dev() -> None:
    """Run a real single-node Kafka and Cassandra on 127.0.0.1 (no Docker)."""


@dev.command()
@_which
@click.option("--timeout", default=180.0, show_default=True, help="Seconds to wait for each.")
def up(names: tuple[str, ...], timeout: float) -> None:
    """Fetch the jars (once), start the servers and wait until they answer."""
    try:
        for status in DevServers().up(names or SERVER_NAMES, timeout=timeout):
            click.echo(status.describe())
    except DevServerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


@dev.command()
@_which
def down(names: tuple[str, ...]) -> None:
    """Stop the servers that ``up`` started (and nothing else)."""
    stopped = DevServers().down(names or SERVER_NAMES)
    click.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing to stop")


@dev.command()
@_which
def status(names: tuple[str, ...]) -> None:
    """Show each server's pid and whether it answers; exit 1 if one is not ready."""
    statuses = DevServers().status(names or SERVER_NAMES)
    for item in statuses:
        click.echo(item.describe())
    if not all(item.ready for item in statuses):
        sys.exit(1)


@dev.command()
@click.argument("name", type=click.Choice(SERVER_NAMES))
@click.option("-n", "--lines", default=50, show_default=True)
def logs(name: str, lines: int) -> None:
    """Print the last lines of a server's log."""
    click.echo(DevServers().logs(name, lines))


# Faults (used by the fault suite, tests/faults): they act only on servers ``up`` started.
_one = click.argument("name", type=click.Choice(SERVER_NAMES))


@dev.command()
@_one
def kill(name: str) -> None:
    """SIGKILL a server, as a crash would (no clean shutdown)."""
    _report(DevServers().kill(name), f"killed {name}", name)


@dev.command()
@_one
def pause(name: str) -> None:
    """SIGSTOP a server: its port stays open but it answers nothing until ``resume``."""
    _report(DevServers().pause(name), f"paused {name}", name)


@dev.command()
@_one
def resume(name: str) -> None:
    """SIGCONT a server paused by ``pause``."""
    _report(DevServers().resume(name), f"resumed {name}", name)


@dev.command()
@_one
@click.option("--timeout", default=180.0, show_default=True, help="Seconds to wait for it.")
def restart(name: str, timeout: float) -> None:
    """Stop a server if it runs, start it again and wait until it answers."""
    try:
        click.echo(DevServers().restart(name, timeout=timeout).describe())
    except DevServerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


def _report(done: bool, message: str, name: str) -> None:
    if not done:
        click.echo(f"error: {name} is not running (or was not started by streamcore)", err=True)
        sys.exit(1)
    click.echo(message)
