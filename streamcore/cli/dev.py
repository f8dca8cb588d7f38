"""``streamcore dev``: the local Kafka and Cassandra used by the quick start and the tests."""

from __future__ import annotations

import sys
import time

import click

from streamcore.dev import DevServers
from streamcore.dev.layout import MAX_NODES, DevSettings, SecureDevSettings
from streamcore.dev.servers import REGISTRY, recorded_nodes
from streamcore.errors import DevServerError

_which = click.argument("names", nargs=-1, metavar="[NAME]...")
_nodes = click.option(
    "--nodes",
    type=click.IntRange(1, MAX_NODES),
    default=None,
    help="Servers of a local cluster: node N of each kind on 127.0.0.N (kafka-N, "
    "cassandra-N). Default: STREAMCORE_DEV_NODES, else the layout `up` started last "
    "(1 for `up`).",
)
_secure = click.option(
    "--secure",
    is_flag=True,
    help="The secure pair instead: Kafka with a SASL_SSL (SCRAM) listener, Cassandra with "
    "password and TLS; its own ports and state (STREAMCORE_DEV_SECURE_*).",
)


def _servers(
    secure: bool, nodes: int | None = None, starting: bool = False, *, registry: bool = False
) -> DevServers:
    """The servers meant: ``nodes`` given, else the setting, else (except to start) the
    layout last started in the state directory. ``registry`` turns the registry on;
    without it the environment decides."""
    settings = SecureDevSettings() if secure else DevSettings()
    if registry:
        settings = settings.model_copy(update={"registry": True})
    if nodes is None and "nodes" not in settings.model_fields_set and not starting:
        nodes = recorded_nodes(settings)
    if nodes is not None and nodes != settings.nodes:
        # Re-validated, so a cluster's heaps apply when none was set.
        values = {k: getattr(settings, k) for k in settings.model_fields_set}
        settings = type(settings)(**{**values, "nodes": nodes})
    return DevServers(settings)


@click.group()
def dev() -> None:
    """Run a real Kafka and Cassandra on 127.0.0.1 (no Docker): one node of each, or a
    local cluster with ``up --nodes 3``."""


@dev.command()
@_which
@_secure
@_nodes
@click.option(
    "--registry",
    is_flag=True,
    help="Also start the schema registry (Apicurio, Confluent-compatible API); "
    "STREAMCORE_DEV_REGISTRY=true does the same.",
)
@click.option("--timeout", default=180.0, show_default=True, help="Seconds to wait for each.")
def up(
    names: tuple[str, ...], secure: bool, nodes: int | None, registry: bool, timeout: float
) -> None:
    """Fetch the jars (once), start the servers and wait until they answer.

    NAME: a server (kafka, cassandra, registry; in a cluster kafka-2, cassandra-3 ...); a
    kind's name is all its nodes; none: every server (the registry if enabled).
    """
    _start(names, secure, nodes, timeout, registry=registry)


def _start(
    names: tuple[str, ...],
    secure: bool,
    nodes: int | None,
    timeout: float,
    *,
    registry: bool = False,
) -> None:
    started = time.monotonic()
    try:
        servers = _servers(secure, nodes, starting=not names, registry=registry)
        for status in servers.up(names, timeout=timeout):
            click.echo(status.describe())
    except DevServerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if servers.settings.nodes > 1:
        click.echo(f"all ready in {time.monotonic() - started:.1f} s")
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
@_nodes
@click.option("--timeout", default=180.0, show_default=True, help="Seconds to wait for each.")
def start(names: tuple[str, ...], secure: bool, nodes: int | None, timeout: float) -> None:
    """Start stopped servers of the current layout (e.g. ``start kafka-2``); as ``up``."""
    _start(names, secure, nodes, timeout)


@dev.command()
@_which
@_secure
@_nodes
def down(names: tuple[str, ...], secure: bool, nodes: int | None) -> None:
    """Stop the servers that ``up`` started (and nothing else); NAME as for ``up``."""
    _stop(names, secure, nodes)


@dev.command()
@_which
@_secure
@_nodes
def stop(names: tuple[str, ...], secure: bool, nodes: int | None) -> None:
    """Stop servers cleanly (SIGTERM), e.g. ``stop cassandra-3``; as ``down``."""
    _stop(names, secure, nodes)


def _stop(names: tuple[str, ...], secure: bool, nodes: int | None) -> None:
    try:
        stopped = _servers(secure, nodes).down(names)
    except DevServerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing to stop")


@dev.command()
@_which
@_secure
@_nodes
def status(names: tuple[str, ...], secure: bool, nodes: int | None) -> None:
    """Show each server's pid and whether it answers; exit 1 if one is not ready."""
    try:
        servers = _servers(secure, nodes)
        if not names and REGISTRY not in servers.names and servers.process(REGISTRY).is_running():
            names = (*servers.names, REGISTRY)  # started with --registry: shown, not enabled
        statuses = servers.status(names)
    except DevServerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    for item in statuses:
        click.echo(item.describe())
    if not all(item.ready for item in statuses):
        sys.exit(1)


# One server, by its name in the current layout (``kafka``; ``kafka-2`` in a cluster).
_one = click.argument("name")


@dev.command()
@_one
@_secure
@_nodes
@click.option("-n", "--lines", default=50, show_default=True)
def logs(name: str, secure: bool, nodes: int | None, lines: int) -> None:
    """Print the last lines of a server's log."""
    click.echo(_servers(secure, nodes).logs(_exact(name, secure, nodes), lines))


# Faults (used by the fault suites, tests/faults and tests/cluster): they act only on
# servers ``up`` started.


@dev.command()
@_one
@_secure
@_nodes
def kill(name: str, secure: bool, nodes: int | None) -> None:
    """SIGKILL a server, as a crash would (no clean shutdown)."""
    _report(_servers(secure, nodes).kill(_exact(name, secure, nodes)), f"killed {name}", name)


@dev.command()
@_one
@_secure
@_nodes
def pause(name: str, secure: bool, nodes: int | None) -> None:
    """SIGSTOP a server: its port stays open but it answers nothing until ``resume``."""
    _report(_servers(secure, nodes).pause(_exact(name, secure, nodes)), f"paused {name}", name)


@dev.command()
@_one
@_secure
@_nodes
def resume(name: str, secure: bool, nodes: int | None) -> None:
    """SIGCONT a server paused by ``pause``."""
    _report(_servers(secure, nodes).resume(_exact(name, secure, nodes)), f"resumed {name}", name)


@dev.command()
@_one
@_secure
@_nodes
@click.option("--timeout", default=180.0, show_default=True, help="Seconds to wait for it.")
def restart(name: str, secure: bool, nodes: int | None, timeout: float) -> None:
    """Stop a server if it runs, start it again and wait until it answers."""
    try:
        servers = _servers(secure, nodes)
        click.echo(servers.restart(_exact(name, secure, nodes), timeout=timeout).describe())
    except DevServerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


def _exact(name: str, secure: bool, nodes: int | None) -> str:
    """``name`` when it is one server of the current layout; a usage error otherwise."""
    names = _servers(secure, nodes).all_names
    if name not in names:
        raise click.BadParameter(f"{name!r}: one of {', '.join(names)}", param_hint="NAME")
    return name


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
    from streamcore.dev.layout import DevSettings
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
