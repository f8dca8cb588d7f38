"""The ``streamcore`` command: one click group, one sub-module per family of commands."""

from __future__ import annotations

import logging

import click

from streamcore.cli.api import api
from streamcore.cli.control import control
from streamcore.cli.data import check_config, produce, setup
from streamcore.cli.dev import dev
from streamcore.cli.new import new
from streamcore.cli.read import entity, tail
from streamcore.cli.run import worker
from streamcore.cli.scheduler import scheduler
from streamcore.cli.snapshots import make_snapshots, snapshots


@click.group()
@click.version_option(package_name="streamcore", prog_name="streamcore")
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
def main(verbose: bool) -> None:
    """streamcore: entity-profile stream processing on Kafka and Cassandra."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


main.add_command(dev)
main.add_command(check_config)
main.add_command(setup)
main.add_command(produce)
main.add_command(worker)
main.add_command(control)
main.add_command(snapshots)
main.add_command(make_snapshots)
main.add_command(scheduler)
main.add_command(entity)
main.add_command(tail)
main.add_command(api)
main.add_command(new)
