"""Read commands: ``streamcore entity get|list`` and ``streamcore tail``.

What a newcomer needs to see what the platform stored without writing Python: an entity's
master record, snapshots and attribute history from Cassandra, and the decoded messages of
the input, dead-letter and snapshots topics. Tables on a terminal, JSON when piped
(``streamcore.cli.output``).
"""

from __future__ import annotations

import json
import sys
from collections import deque
from datetime import UTC, datetime
from typing import Any

import click

from streamcore.cli.data import app_name_option, load_config_or_exit
from streamcore.cli.output import cell, format_option, resolve, table, to_json
from streamcore.config import AppConfig
from streamcore.model.suggest import did_you_mean
from streamcore.settings import Settings

config_dir_option = click.option(
    "-c",
    "--config-dir",
    envvar="STREAMCORE_CONFIG_DIR",
    default="config",
    show_default=True,
    type=click.Path(file_okay=False),
    help="The application's DP³ configuration directory (env STREAMCORE_CONFIG_DIR).",
)


def _etype_or_exit(config: AppConfig, etype: str) -> None:
    if etype not in config.model_spec.entities:
        known = config.model_spec.entities
        raise click.UsageError(
            f"unknown entity type {etype!r}{did_you_mean(etype, known)}; "
            f"known: {', '.join(sorted(known))}"
        )


def _time(value: str | None) -> datetime | None:
    from streamcore.model.primitives import parse_time

    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _open(config: AppConfig, app_name: str) -> Any:
    """The application's runtime; a clear error (and the setup command) when its keyspace
    does not exist, instead of the driver's."""
    from streamcore.runtime import open_runtime

    runtime = open_runtime(Settings(), config, app_name)
    keyspace = runtime.settings.cassandra.keyspace
    if keyspace.lower() not in runtime.session.cluster.metadata.keyspaces:
        runtime.close()
        raise click.ClickException(
            f"keyspace {keyspace} of application {app_name!r} does not exist; create it with "
            f"`streamcore setup {config.base_path} --app-name {app_name}`"
        )
    return runtime


@click.group()
def entity() -> None:
    """Read stored entities: a master record, its snapshots, an attribute's history."""


@entity.command("get")
@click.argument("etype")
@click.argument("eid")
@config_dir_option
@app_name_option
@click.option("--snapshot", is_flag=True, help="The latest snapshot (or those --from..--to).")
@click.option("--history", "attr", metavar="ATTR", help="The stored history of one attribute.")
@click.option("--from", "since", metavar="TIME", help="ISO 8601 time; history/snapshots from.")
@click.option("--to", "until", metavar="TIME", help="ISO 8601 time; history/snapshots up to.")
@format_option
def entity_get(  # click passes the options by name
    *,
    etype: str,
    eid: str,
    config_dir: str,
    app_name: str,
    snapshot: bool,
    attr: str | None,
    since: str | None,
    until: str | None,
    fmt: str,
) -> None:
    """Show entity ETYPE EID: its master record (DP³'s shape, see README "Reading what is
    stored"), or with --snapshot its snapshot, or with --history ATTR that attribute's
    observations overlapping --from..--to. Exit status 1 if there is nothing to show."""
    from streamcore.state.encoding import eid_text

    config = load_config_or_exit(config_dir)
    model = config.model_spec
    _etype_or_exit(config, etype)
    try:
        key = model.parse_eid(etype, eid)
    except ValueError as exc:
        raise click.BadParameter(f"{eid!r} is not a {etype} id: {exc}") from None
    if attr is not None and attr not in model.entity_attributes[etype]:
        raise click.BadParameter(
            f"{etype} has no attribute {attr!r}{did_you_mean(attr, model.entity_attributes[etype])}"
        )
    start, end = _time(since), _time(until)
    out = resolve(fmt)
    runtime = _open(config, app_name)
    try:
        if snapshot:
            shown = _show_snapshots(runtime, etype, eid_text(key), start=start, end=end, out=out)
        else:
            (record,) = runtime.store().load([(etype, key)])
            shown = record.exists and _show_record(
                record, model=model, attr=attr, start=start, end=end, out=out
            )
    finally:
        runtime.close()
    if not shown:
        what = "snapshot of " if snapshot else ""
        click.echo(
            f"no {what}{etype} {eid} in application {app_name!r} "
            f"(keyspace {runtime.settings.cassandra.keyspace})",
            err=True,
        )
        sys.exit(1)


def _show_record(
    record: Any,
    *,
    model: Any,
    attr: str | None,
    start: datetime | None,
    end: datetime | None,
    out: str,
) -> bool:
    from streamcore.state.master import master_record

    document = master_record(record, model)
    if attr is not None:
        rows = document.get(attr, [])
        if isinstance(rows, dict):  # a plain attribute: its one value is its history
            rows = [{"t1": rows["ts_last_update"], "t2": None, "v": rows["v"]}]
        rows = [r for r in rows if _overlaps(r, start, end)]
        if out == "json":
            click.echo(to_json(rows))
        else:
            columns = ["t1", "t2", "v", "c"]
            click.echo(table(columns, [[r.get(c) for c in columns] for r in rows]))
        return True
    if out == "json":
        click.echo(to_json(document))
        return True
    meta = {k: v for k, v in document.items() if k.startswith("#") or k == "_id"}
    for key, value in meta.items():
        click.echo(f"{key}: {cell(value)}")
    lines: list[list[Any]] = []
    for name in sorted(k for k in document if k not in meta):
        value = document[name]
        if isinstance(value, dict):
            lines.append([name, value["v"], value["ts_last_update"], None, None])
        else:
            lines.extend([name, r["v"], r["t1"], r["t2"], r.get("c")] for r in value)
    click.echo(table(["attr", "v", "t1", "t2", "c"], lines))
    return True


def _overlaps(row: dict[str, Any], start: datetime | None, end: datetime | None) -> bool:
    t1, t2 = row.get("t1"), row.get("t2") or row.get("t1")
    if start is not None and t2 is not None and t2 < start:
        return False
    return not (end is not None and t1 is not None and t1 > end)


def _show_snapshots(
    runtime: Any, etype: str, eid: str, *, start: datetime | None, end: datetime | None, out: str
) -> bool:
    from streamcore.state.snapshots import SnapshotStore

    store = SnapshotStore(
        runtime.session, runtime.settings.cassandra.keyspace, runtime.config.model_spec
    )
    if start is None and end is None:
        latest = store.latest(etype, eid)
        found = [] if latest is None else [latest]
    else:
        low = start or datetime(1970, 1, 1, tzinfo=UTC)
        found = store.between(etype, eid, low, end or datetime.now(UTC))
    if not found:
        return False
    if out == "json":
        for time, values in found:
            click.echo(to_json({"time": time, "values": values}))
        return True
    for time, values in found:
        click.echo(f"snapshot of {etype} {eid} at {cell(time)}")
        click.echo(table(["attr", "v"], sorted(values.items())))
    return True


@entity.command("list")
@click.argument("etype")
@config_dir_option
@app_name_option
@click.option("--limit", default=50, show_default=True, help="Entities shown at most.")
@click.option(
    "--filter",
    "generic_filter",
    metavar="JSON",
    help="DP³'s generic_filter over the latest snapshots, as the API takes it "
    '(e.g. \'{"risk": "high"}\', \'{"risk_score": {"$gte": 40}}\').',
)
@format_option
def entity_list(  # click passes the options by name
    *, etype: str, config_dir: str, app_name: str, limit: int, generic_filter: str | None, fmt: str
) -> None:
    """List stored entity ids of ETYPE (at most --limit, in index order, not sorted by time).

    With --filter, the entities whose latest snapshot matches DP³'s generic_filter (the
    language of the API's listing: $and $or $not $eq $ne $lt $lte $gt $gte $in $nin $regex
    $exists); this reads the type's latest snapshots until --limit match.
    """
    config = load_config_or_exit(config_dir)
    _etype_or_exit(config, etype)
    predicate = _filter_or_exit(generic_filter)
    runtime = _open(config, app_name)
    try:
        if predicate is None:
            eids = _stored_eids(runtime, etype, limit)
        else:
            eids = _matching_eids(runtime, etype, predicate, limit)
    finally:
        runtime.close()
    if resolve(fmt) == "json":
        for eid in eids:
            click.echo(to_json({"etype": etype, "eid": eid}))
    else:
        click.echo(table(["eid"], [[eid] for eid in eids]))
        click.echo(f"({len(eids)} shown{', --limit reached' if len(eids) == limit else ''})")


def _filter_or_exit(text: str | None) -> Any:
    """The compiled --filter, or None; exit 1 naming what is wrong with it."""
    if text is None:
        return None
    from streamcore.api.filters import FilterError, compile_filters

    try:
        query = json.loads(text)
        if not isinstance(query, dict):
            raise FilterError("the filter must be a JSON object")
        return compile_filters(query, None)
    except (ValueError, FilterError) as exc:
        click.echo(f"error: --filter: {exc}", err=True)
        sys.exit(1)


def _stored_eids(runtime: Any, etype: str, limit: int) -> list[str]:
    from streamcore.state.schema import INDEX_BUCKETS

    store = runtime.store()
    eids: list[str] = []
    for first in range(0, INDEX_BUCKETS, 16):  # a few buckets at a time, until enough
        eids.extend(sorted(text for text, _ in store.bucket_eids(etype, range(first, first + 16))))
        if len(eids) >= limit:
            break
    return eids[:limit]


def _matching_eids(runtime: Any, etype: str, predicate: Any, limit: int) -> list[str]:
    from streamcore.state.reads import EntityReads

    reads = EntityReads(
        runtime.session, runtime.settings.cassandra.keyspace, runtime.config.model_spec
    )
    eids: list[str] = []
    for _time, eid, doc in reads.latest(etype):
        if predicate(doc):
            eids.append(str(eid))
            if len(eids) >= limit:
                break
    return eids


TAIL_TOPICS = {"input": "input", "dead-letter": "dead_letter", "snapshots": "snapshots"}


@click.command()
@click.argument("topic", type=click.Choice(sorted(TAIL_TOPICS)))
@config_dir_option
@app_name_option
@click.option("-n", "--lines", default=10, show_default=True, help="Show the last N messages.")
@click.option("--from-beginning", is_flag=True, help="Every message the topic still holds.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new messages (Ctrl-C stops).")
@format_option
def tail(  # click passes the options by name
    *,
    topic: str,
    config_dir: str,
    app_name: str,
    lines: int,
    from_beginning: bool,
    follow: bool,
    fmt: str,
) -> None:
    """Print the application's input, dead-letter or snapshots topic, decoded: one line per
    message (JSON lines when piped). Only committed messages are shown."""
    from streamcore.cli.messages import MessageDecoder
    from streamcore.errors import StreamcoreError
    from streamcore.kafka.reader import TopicReader
    from streamcore.kafka.registry import TOPIC_SCHEMAS, topic_framing

    config = load_config_or_exit(config_dir)
    settings = Settings()
    name = settings.topics.name(TAIL_TOPICS[topic], app_name)
    role = TAIL_TOPICS[topic]
    framing = topic_framing(settings, name) if role in TOPIC_SCHEMAS else None
    decoder = MessageDecoder(role, config.model_spec, framing)
    out = resolve(fmt)
    client = {**settings.kafka.client_config(), "isolation.level": "read_committed"}
    try:
        reader = TopicReader(client, name, "earliest")
    except StreamcoreError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        if not from_beginning:
            reader.seek_from_end(lines)
        backlog = reader.read_available()
        backlog.sort(key=lambda record: (record.timestamp_ms, record.partition, record.offset))
        shown: deque[Any] = deque(backlog, maxlen=None if from_beginning else lines)
        for record in shown:
            click.echo(decoder.line(record, out))
        while follow:
            for record in reader.poll(1.0):
                click.echo(decoder.line(record, out))
    except KeyboardInterrupt:
        pass
    finally:
        reader.close()


__all__ = ["entity", "tail"]
