"""``streamcore dev``: the local Kafka and Cassandra used by the quick start and the tests."""

from __future__ import annotations

import sys

import click

from streamcore.dev import DevServers
from streamcore.dev.layout import DevSettings, SecureDevSettings
from streamcore.dev.servers import ALL_SERVER_NAMES
from streamcore.errors import DevServerError

_which = click.argument("names", nargs=-1, type=click.Choice(ALL_SERVER_NAMES))
_secure = click.option(
    "--secure",
    is_flag=True,
    help="The secure pair instead: Kafka with a SASL_SSL (SCRAM) listener, Cassandra with "
    "password and TLS; its own ports and state (STREAMCORE_DEV_SECURE_*).",
)


def _servers(secure: bool, *, registry: bool = False) -> DevServers:
    """``registry`` turns the registry on; without it the environment decides."""
    settings = SecureDevSettings() if secure else DevSettings()
    if registry:
        settings = settings.model_copy(update={"registry": True})
    return DevServers(settings)


@click.group()
def dev() -> None:
    """Run a real single-node Kafka and Cassandra on 127.0.0.1 (no Docker)."""


@dev.command()
@_which
@_secure
@click.option(
    "--registry",
    is_flag=True,
    help="Also start the schema registry (Apicurio, Confluent-compatible API); "
    "STREAMCORE_DEV_REGISTRY=true does the same.",
)
@click.option("--timeout", default=180.0, show_default=True, help="Seconds to wait for each.")
def up(names: tuple[str, ...], secure: bool, registry: bool, timeout: float) -> None:
    """Fetch the jars (once), start the servers and wait until they answer."""
    servers = _servers(secure, registry=registry)
    try:
        for status in servers.up(names, timeout=timeout):
            click.echo(status.describe())
    except DevServerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if secure:
        click.echo("client settings:")
        for name, value in secure_client_env(servers).items():
            click.echo(f"  {name}={value}")


def secure_client_env(servers: DevServers) -> dict[str, str]:
    """The STREAMCORE_* variables that connect a process to the secure pair."""
    kafka = servers.kafka_settings()
    cassandra = servers.cassandra_settings()
    password = kafka.sasl_password.get_secret_value() if kafka.sasl_password else ""
    cassandra_password = cassandra.password.get_secret_value() if cassandra.password else ""
    return {
        "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "STREAMCORE_KAFKA__SECURITY_PROTOCOL": kafka.security_protocol,
        "STREAMCORE_KAFKA__SASL_MECHANISM": kafka.sasl_mechanism or "",
        "STREAMCORE_KAFKA__SASL_USERNAME": kafka.sasl_username or "",
        "STREAMCORE_KAFKA__SASL_PASSWORD": password,
        "STREAMCORE_KAFKA__SSL_CA_LOCATION": kafka.ssl_ca_location or "",
        "STREAMCORE_CASSANDRA__PORT": str(cassandra.port),
        "STREAMCORE_CASSANDRA__USERNAME": cassandra.username or "",
        "STREAMCORE_CASSANDRA__PASSWORD": cassandra_password,
        "STREAMCORE_CASSANDRA__SSL_CA_FILE": cassandra.ssl_ca_file or "",
    }


@dev.command()
@_which
@_secure
def down(names: tuple[str, ...], secure: bool) -> None:
    """Stop the servers that ``up`` started (and nothing else)."""
    stopped = _servers(secure).down(names or ALL_SERVER_NAMES)
    click.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing to stop")


@dev.command()
@_which
@_secure
def status(names: tuple[str, ...], secure: bool) -> None:
    """Show each server's pid and whether it answers; exit 1 if one is not ready."""
    servers = _servers(secure)
    if not names and servers.process("registry").is_running():
        names = ALL_SERVER_NAMES  # started with --registry: shown though not enabled
    statuses = servers.status(names)
    for item in statuses:
        click.echo(item.describe())
    if not all(item.ready for item in statuses):
        sys.exit(1)


@dev.command()
@click.argument("name", type=click.Choice(ALL_SERVER_NAMES))
@_secure
@click.option("-n", "--lines", default=50, show_default=True)
def logs(name: str, secure: bool, lines: int) -> None:
    """Print the last lines of a server's log."""
    click.echo(_servers(secure).logs(name, lines))


# Faults (used by the fault suite, tests/faults): they act only on servers ``up`` started.
_one = click.argument("name", type=click.Choice(ALL_SERVER_NAMES))


@dev.command()
@_one
@_secure
def kill(name: str, secure: bool) -> None:
    """SIGKILL a server, as a crash would (no clean shutdown)."""
    _report(_servers(secure).kill(name), f"killed {name}", name)


@dev.command()
@_one
@_secure
def pause(name: str, secure: bool) -> None:
    """SIGSTOP a server: its port stays open but it answers nothing until ``resume``."""
    _report(_servers(secure).pause(name), f"paused {name}", name)


@dev.command()
@_one
@_secure
def resume(name: str, secure: bool) -> None:
    """SIGCONT a server paused by ``pause``."""
    _report(_servers(secure).resume(name), f"resumed {name}", name)


@dev.command()
@_one
@_secure
@click.option("--timeout", default=180.0, show_default=True, help="Seconds to wait for it.")
def restart(name: str, secure: bool, timeout: float) -> None:
    """Stop a server if it runs, start it again and wait until it answers."""
    try:
        click.echo(_servers(secure).restart(name, timeout=timeout).describe())
    except DevServerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


def _report(done: bool, message: str, name: str) -> None:
    if not done:
        click.echo(f"error: {name} is not running (or was not started by streamcore)", err=True)
        sys.exit(1)
    click.echo(message)


@dev.command()
@click.argument("targets", nargs=-1, metavar="[JOB=HOST:PORT]...")
@click.option("--port", default=19090, show_default=True, help="Prometheus's own port.")
@click.option("--interval", default="5s", show_default=True, help="Scrape interval.")
@click.option("--stop", is_flag=True, help="Stop the Prometheus started before, and exit.")
def prometheus(targets: tuple[str, ...], port: int, interval: str, stop: bool) -> None:
    """Run a real Prometheus on 127.0.0.1:PORT scraping streamcore processes.

    Each target is a scrape job and a /metrics address, e.g. worker=127.0.0.1:9100. The
    shipped alert rules (helm/streamcore/files/alerts.yml) are loaded. The binary comes from
    scripts/install-prometheus.sh; config and data go under the dev state directory.
    """
    from streamcore.dev.prometheus import ALERT_RULES, DevPrometheus

    pairs = []
    for target in targets:
        job, _, address = target.partition("=")
        if not job or ":" not in address:
            raise click.BadParameter(f"{target!r}: expected JOB=HOST:PORT", param_hint="TARGETS")
        pairs.append((job, address))
    server = DevPrometheus(
        DevSettings().server_dir("prometheus"),
        port,
        pairs,
        scrape_interval=interval,
        rule_files=[ALERT_RULES],
    )
    if stop:
        click.echo("stopped prometheus" if server.stop() else "nothing to stop")
        return
    try:
        server.start()
    except DevServerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"prometheus: ready on {server.url} (pid {server.process.pid()})")
