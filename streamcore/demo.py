"""The quick start's main job: the whole flow on the local servers, end to end.

1. ``setup``: the application's topics and Cassandra keyspace (idempotent);
2. ``produce``: DP³ JSON data-points from ``examples/datapoints.json`` (the invalid ones are
   reported and skipped; 8.8.8.8 is refused by the ``prefix_filter`` module);
3. an ingestion worker with the example modules applies them and what the hooks derive;
4. a snapshot run computes current values and runs the correlation modules;
5. the profile (master record) and the latest snapshot of an IP are printed, with what was
   refused and why, why the snapshot's values differ from the profile's;
6. the HTTP API (``streamcore api``) is started on a free port and asked for them with
   ``curl``-style calls, and the demo ends with what to try next.

Run it with ``scripts/demo`` (which starts the dev servers first). Everything lives in the
application ``demo`` and its keyspace ``demo`` (derived from the name, as for every
application); running it again adds to them.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from streamcore.codec.dp3json import read_items
from streamcore.config import load_config
from streamcore.errors import InvalidDataPointError
from streamcore.model.datapoint import DataPointTask
from streamcore.model.primitives import parse_time
from streamcore.module.hooks import HookKind
from streamcore.module.loader import load_modules, start_modules, stop_modules
from streamcore.producer import DataPointProducer
from streamcore.runtime import (
    Runtime,
    build_ingest_worker,
    build_snapshot_worker,
    make_snapshots,
    open_runtime,
)
from streamcore.settings import Settings, app_keyspace
from streamcore.setup_steps import SETUP_STEPS
from streamcore.state.master import master_record
from streamcore.state.merge import to_millis
from streamcore.state.snapshots import SnapshotStore

ROOT = Path(__file__).resolve().parents[1]
APP = "demo"
SHOWN = "192.0.2.10"
REFUSED = "8.8.8.8"
QUIET_KAFKA = {"log_level": "3"}
"""librdkafka logs errors only: its transient warnings (a coordinator still loading on a
fresh topic) would read as failures in a demo."""


def main(
    config_dir: Path = ROOT / "config",
    data: Path = ROOT / "examples" / "datapoints.json",
    app: str = APP,
    keyspace: str | None = None,
    base: Settings | None = None,
) -> int:
    base = base or Settings()
    options = {**QUIET_KAFKA, **base.kafka.client_options}
    cassandra = base.cassandra.model_copy(update={"keyspace": keyspace or base.cassandra.keyspace})
    settings = base.model_copy(
        update={
            "cassandra": cassandra,
            "kafka": base.kafka.model_copy(update={"client_options": options}),
        }
    ).for_app(app)
    keyspace = settings.cassandra.keyspace
    config = load_config(config_dir)
    print(f"== setup ({app})")
    for step in SETUP_STEPS:
        for line in step(settings, app, config):
            print(f"   {line}")

    print(f"== produce {data.relative_to(ROOT)}")
    sent, newest = produce(settings, app, config.model_spec, data)

    loaded = load_modules(config.platform_config(app))
    runtime = open_runtime(settings, config, app)
    start_modules(loaded.modules)
    try:
        ingest = build_ingest_worker(runtime, hooks=loaded.registrar.ingestion_hooks())
        snapshots = build_snapshot_worker(runtime, loaded.registrar.registry, trigger=False)
        with background(ingest.run, ingest.stop), background(snapshots.run, snapshots.stop):
            print(f"== ingest: worker applying {sent} data-points and what the hooks derive")
            profile = wait(lambda: derived_profile(runtime, newest), "the derived profile")
            print("== snapshot run")
            run = make_snapshots(runtime)
            store = SnapshotStore(runtime.session, keyspace, config.model_spec)
            latest = wait(lambda: fresh(store.latest("ip", SHOWN), run), "the snapshot")
            refused = refused_story(runtime, loaded.registrar.registry)
    finally:
        stop_modules(loaded.modules)
        runtime.close()
    print(f"== refused by modules\n   {refused}")
    print(f"== profile of ip {SHOWN} (master record)")
    print(json.dumps(profile, indent=2, default=str, sort_keys=True))
    print(f"== latest snapshot of ip {SHOWN} (run {run.isoformat()})")
    print(json.dumps(latest[1], indent=2, default=str, sort_keys=True))
    print("== why the snapshot differs from the profile")
    for line in differences(profile, latest[1], loaded.registrar.registry):
        print(f"   {line}")
    ask_the_api(settings, config_dir, app)
    print("== next")
    for line in next_steps(app, keyspace):
        print(f"   next: {line}")
    return 0


def refused_story(runtime: Runtime, registry: Any) -> str:
    """Which module kept ``REFUSED`` out (its ``allow_entity_creation`` hook said no)."""
    eid = runtime.config.model_spec.parse_eid("ip", REFUSED)
    (record,) = runtime.store().load([("ip", eid)])
    if record.exists:
        return f"ip {REFUSED} was stored: no module refused it"
    deciders = sorted(
        {reg.module for reg in registry.hooks(HookKind.ALLOW_ENTITY_CREATION) if reg.entity == "ip"}
    )
    prefixes = runtime.config.modules.get("prefix_filter", {}).get("allowed_prefixes", [])
    return (
        f"ip {REFUSED}: not created, its data-points dropped: allow_entity_creation of "
        f"{', '.join(deciders) or 'a module'} refused it (outside allowed_prefixes "
        f"{', '.join(prefixes)}, config/modules/prefix_filter.yml)"
    )


def differences(profile: dict[str, Any], snapshot: dict[str, Any], registry: Any) -> list[str]:
    """Why a snapshot value is not the profile's: a correlation module changed it, or the
    attribute is observations (the snapshot holds the current value, confidence decayed)."""
    writers: dict[str, list[str]] = {}
    for reg in registry.correlation_hooks("ip"):
        for path in reg.may_change or ():
            writers.setdefault(path[-1], []).append(reg.module)
    lines = []
    for attr, stored in sorted(profile.items()):
        if attr.startswith(("#", "_")) or attr not in snapshot:
            continue
        if isinstance(stored, dict) and attr in writers and stored["v"] != snapshot[attr]:
            lines.append(
                f"{attr}: profile {stored['v']!r}, snapshot {snapshot[attr]!r}: set at snapshot "
                f"time by the correlation module {', '.join(writers[attr])} (it may change "
                f"{attr}); snapshots are not written back to the profile"
            )
        elif isinstance(stored, list):
            lines.append(
                f"{attr}: profile keeps every observation with its times; the snapshot holds "
                f"the value valid at the run, {attr}#c its confidence decayed since t2"
            )
    modules = sorted({reg.module for reg in registry.correlation_hooks("ip")})
    for key in sorted(k for k in snapshot if k not in profile and "#" not in k and k != "eid"):
        if key in writers:
            origin = f"set by the correlation module {', '.join(writers[key])}"
        else:  # a snapshot-only key: hooks need not declare those
            origin = f"added by a correlation hook of ip (modules {', '.join(modules)})"
        lines.append(f"{key}: only in the snapshot, {origin}")
    return lines


def next_steps(app: str, keyspace: str) -> list[str]:
    """What to run next: the read commands on what the demo stored."""
    where = f"--app-name {app}"
    return [
        f"streamcore entity get ip {SHOWN} {where}             # this profile again",
        f"streamcore entity get ip {SHOWN} {where} --snapshot  # and its snapshot",
        f"streamcore entity list ip {where}                     # every stored ip",
        f"streamcore tail input {where}                         # the data-points sent",
        'README.md, "A first application, step by step": the same flow, command by command'
        + (
            ""
            if keyspace == app_keyspace(app)
            else f" (keyspace {keyspace}: set STREAMCORE_CASSANDRA__KEYSPACE={keyspace})"
        ),
    ]


def ask_the_api(settings: Settings, config_dir: Path, app: str) -> None:
    """Serve the API on a free local port for a few calls, printed as ``curl`` commands."""
    import socket
    import urllib.parse
    import urllib.request

    import uvicorn

    from streamcore.api import create_app
    from streamcore.api.server import build_services

    services = build_services(settings, load_config(config_dir), config_dir, app)
    services.start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning")
    )
    with background(server.run, lambda: setattr(server, "should_exit", True)):
        wait(lambda: server.started or None, "the API")
        print(f"== HTTP API on port {port} (streamcore api {config_dir.name})")
        for path in (
            f"/entity/ip/{SHOWN}/get/risk",
            '/entity/ip/get?limit=2&generic_filter={"eid":"$$IPv4Prefix{192.0.2.0/24}"}',
        ):
            url = f"http://127.0.0.1:{port}{path}"
            print(f"$ curl -s '{url}'")
            quoted = urllib.parse.quote(url, safe=":/?&=")
            with urllib.request.urlopen(quoted, timeout=10) as response:
                print(f"   {response.read().decode()}")
    services.close()


def produce(settings: Settings, app: str, model: Any, data: Path) -> tuple[int, datetime]:
    """Send the file's data-points, their times moved so the newest ended 5 minutes ago
    (so the snapshot, taken now, sees them as current)."""
    items = list(read_items(data.read_text()))
    ends = [
        parse_time(i.data_point.t2 or i.data_point.t1)
        for i in items
        if i.data_point is not None and i.data_point.t1 is not None
    ]
    shift = datetime.now(UTC) - timedelta(minutes=5) - max(ends) if ends else timedelta()
    sent = 0
    with DataPointProducer(settings, app, model) as producer:
        for item in items:
            if item.data_point is None:
                print(f"   line {item.line}: {item.error}")
                continue
            dp = item.data_point
            if dp.t1 is not None:
                dp.t1 = parse_time(dp.t1) + shift
                dp.t2 = parse_time(dp.t2) + shift if dp.t2 is not None else None
            try:
                producer.send(DataPointTask(str(dp.etype), dp.eid, [dp]))
            except InvalidDataPointError as exc:
                print(f"   line {item.line}: rejected: {exc}")
                continue
            sent += 1
    print(f"   sent {sent} data-points ({producer.delivered} delivered)")
    return sent, (max(ends) + shift if ends else datetime.now(UTC))


def derived_profile(runtime: Runtime, newest: datetime) -> dict[str, Any] | None:
    """The master record once this run's data and the hooks' derivations are in."""
    (record,) = runtime.store().load([("ip", runtime.config.model_spec.parse_eid("ip", SHOWN))])
    attrs = record.attrs
    if not all(name in attrs for name in ("risk", "domains", "first_seen", "open_ports")):
        return None
    if max(row.t2 for row in attrs["open_ports"].values() if row.t2) < to_millis(newest):
        return None
    return master_record(record, runtime.config.model_spec)


def fresh(latest: Any, run: Any) -> Any:
    return latest if latest is not None and latest[0] >= run else None


class background:
    """Runs ``loop`` in a thread for the ``with`` block; ``stop`` ends it."""

    def __init__(self, loop: Callable[[], None], stop: Callable[[], None]) -> None:
        self.thread = threading.Thread(target=loop, daemon=True)
        self.stop = stop

    def __enter__(self) -> background:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
        self.thread.join(60)


def wait(condition: Callable[[], Any], what: str, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while (value := condition()) is None:
        if time.monotonic() > deadline:
            raise SystemExit(f"demo: {what} did not appear within {timeout:.0f} s")
        time.sleep(0.5)
    return value


if __name__ == "__main__":
    sys.exit(main())
