"""One lifecycle for every long-running role: ``run_role(role, config, app_name, build)``.

Each long-running ``streamcore`` command (``worker``, ``snapshots``, ``scheduler``, and
the HTTP API) is a *role*: a name and a main loop. Everything around the loop is done
here, once, in this order:

1. load the config directory, the settings and the enabled modules; open the runtime
   (Cassandra session); name the replica (``instance_name`` unless given);
2. make the role's ``Metrics`` (the default registry), ``Health`` (readiness includes
   "control topic caught up") and ``ControlActions`` with the actions every role shares:
   ``ping``, ``refresh_module_config`` (also recorded in Cassandra, so the next snapshot
   run re-runs the module's ``refresh=`` hooks once, whichever process runs it) and
   ``refresh_on_entity_creation`` (claimed: one replica of the cluster runs it);
3. ``build(context)``: the role wires its loop from the ``RoleContext`` (adding actions
   it can carry out, e.g. ``make_snapshots``) and returns a ``Role``;
4. build the control listener; serve /metrics, /healthz, /readyz; SIGTERM and SIGINT
   call ``loop.stop()``;
5. ``listener.start()`` (catch up with the control topic), the modules' ``start()``,
   then ``loop.run()`` on the calling thread. Control messages are handled where the
   loop calls ``context.poll_control()`` (between batches, tasks or rounds: on the
   thread that runs the hooks, so a config never changes under a running hook); a role
   whose loop can't call it returns ``Role(loop, polls_control=False)`` and the listener
   runs on a thread of its own;
6. however ``run()`` ends: the listener says *leaving*, the modules stop, the runtime,
   the role's ``closing`` callbacks and the metrics server close.

A role needs only a loop object with ``run()`` (blocks until stopped) and ``stop()``
(callable from a signal handler) and a builder (``streamcore api``'s is
``streamcore.api.role.api_role``: uvicorn as the loop, the control listener on its own
thread, built once the application is set up)::

    def build(context: RoleContext) -> Role:
        server = ApiServer(app, context.settings.api)
        context.health.checks.append(services.not_ready)
        return Role(server, polls_control=False, set_up=services.is_set_up)

    run_role("api", load_config_or_exit(config_dir), app_name, build)
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Protocol

from streamcore.settings import Settings

if TYPE_CHECKING:
    from streamcore.config import AppConfig
    from streamcore.config.platform import PlatformConfig
    from streamcore.control.actions import ControlActions, CreationHooks
    from streamcore.control.listener import ControlListener
    from streamcore.metrics import Health, Metrics
    from streamcore.module.loader import LoadedModules
    from streamcore.runtime import Runtime
    from streamcore.schedule.local import LocalJobs

log = logging.getLogger(__name__)


class MainLoop(Protocol):
    """What a role runs: ``run()`` blocks until ``stop()`` (called from a signal handler,
    so it only asks: it sets a flag the loop checks)."""

    def run(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class Role:
    """A built role: its loop, and whether the loop calls ``context.poll_control()``."""

    loop: MainLoop
    polls_control: bool = True
    closing: list[Callable[[], object]] = field(default_factory=list)
    """Called after the loop ended and the listener left (e.g. close a producer)."""
    set_up: Callable[[], bool] | None = None
    """For a role that serves before its application is set up (the API answers 503 and
    becomes ready without a restart): True once the topics and keyspace exist. The control
    listener, which needs them, is then built and started on the control thread once it
    returns True (``polls_control=False`` only); until then the replica is not ready."""


@dataclass
class RoleContext:
    """What a role's builder gets: everything the lifecycle opened for the replica."""

    role: str
    instance: str
    settings: Settings
    runtime: Runtime
    platform_config: PlatformConfig
    loaded: LoadedModules
    metrics: Metrics
    health: Health
    actions: ControlActions
    creation_hooks: CreationHooks | None = None
    """The ingestion hook engine for ``refresh_on_entity_creation``; a role that builds
    one (the worker) sets it, otherwise the lifecycle builds one from the registrar."""
    listener: ControlListener | None = None
    """Set by the lifecycle after ``build``."""
    module_jobs: LocalJobs | None = None
    """The modules' ``scheduler_register`` callbacks this process runs itself (DP³'s
    per-worker scheduler); a role whose hooks need them sets it (``schedule/local.py``)."""

    def poll_control(self) -> None:
        """Handle the control messages that arrived (cheap when none did), then run the
        modules' callbacks that are due: the loop calls it at least every few seconds, on
        the thread that runs the hooks."""
        if self.listener is not None:
            self.listener.poll()
        if self.module_jobs is not None:
            self.module_jobs.run_due()


RoleBuilder = Callable[[RoleContext], Role]


def run_role(  # noqa: PLR0913 (the CLI options of every role)
    role: str,
    config: AppConfig,
    app_name: str,
    build: RoleBuilder,
    *,
    process_index: int = 0,
    instance: str | None = None,
) -> None:
    """Run one replica of ``role`` until SIGTERM/SIGINT (see the module docstring)."""
    from prometheus_client import REGISTRY

    from streamcore.metrics import Metrics
    from streamcore.runtime import open_runtime

    stopping = StopSignals(role)
    stopping.install()
    settings = Settings()
    runtime = open_runtime(settings, config, app_name)
    try:
        context = open_context(
            role, runtime, Metrics(REGISTRY), process_index=process_index, instance=instance
        )
        run_context(context, build, stopping)
    finally:
        runtime.close()


class StopSignals:
    """SIGTERM and SIGINT from the moment ``run_role`` starts, not only once the replica
    runs: a signal while it is still being built (settings, Cassandra, modules, catch-up
    of nothing yet) stops it before it consumes anything, with exit 0 and the usual
    "stopped cleanly" line, instead of Python's default death by signal (exit -15)."""

    def __init__(self, role: str) -> None:
        self.role = role
        self.signum: int | None = None
        self._replica: Replica | None = None

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.signum = signum
        replica = self._replica
        if replica is None:
            log.info("signal %s: %s stopping before it runs", signum, self.role)
            return
        log.info("signal %s: %s %s stopping", signum, self.role, replica.context.instance)
        replica.stop()

    def bind(self, replica: Replica) -> bool:
        """From now on a signal stops ``replica``; False if one came before it was built."""
        self._replica = replica
        return self.signum is None


def open_context(
    role: str,
    runtime: Runtime,
    metrics: Metrics,
    *,
    process_index: int = 0,
    instance: str | None = None,
) -> RoleContext:
    """Steps 1-2 of the lifecycle on an open ``runtime`` (tests build replicas with it)."""
    from streamcore.module.loader import load_modules

    platform_config = runtime.config.platform_config(runtime.app_name, process_index)
    loaded = load_modules(platform_config, dp3_compat=runtime.settings.dp3_compat)
    return role_context(role, runtime, platform_config, loaded, metrics, instance=instance)


def role_context(  # noqa: PLR0913 (what the lifecycle opened, handed over)
    role: str,
    runtime: Runtime,
    platform_config: PlatformConfig,
    loaded: LoadedModules,
    metrics: Metrics,
    *,
    instance: str | None = None,
) -> RoleContext:
    """A context for modules already loaded (``open_context`` loads them)."""
    from streamcore.control.actions import ControlActions
    from streamcore.metrics import Health
    from streamcore.runtime import instance_name

    settings = runtime.settings
    return RoleContext(
        role=role,
        instance=instance or instance_name(),
        settings=settings,
        runtime=runtime,
        platform_config=platform_config,
        loaded=loaded,
        metrics=metrics,
        health=Health(settings.metrics.liveness_seconds),
        actions=ControlActions(runtime.config.control.allowed_actions, role),
    )


@dataclass
class Replica:
    """A built replica, ready to ``run()``: its context, role and control listener."""

    context: RoleContext
    role: Role
    listener: ControlListener | None
    """None until the application is set up, for a role with ``set_up``."""
    make_listener: Callable[[], ControlListener] | None = None

    def run(self, stopping: threading.Event | None = None) -> None:
        """Steps 5-6 (without signals or the metrics server): catch up, start the modules,
        run the loop; always leave and stop the modules."""
        from streamcore.module.loader import start_modules, stop_modules

        context = self.context
        control_thread = None
        done = stopping or threading.Event()
        if self.listener is not None:
            self.listener.start()
        try:
            start_modules(context.loaded.modules)
            if not self.role.polls_control:
                control_thread = threading.Thread(
                    target=self._serve_control, args=(done,), name="control", daemon=True
                )
                control_thread.start()
            log.info(
                "%s %s of %s running", context.role, context.instance, context.runtime.app_name
            )
            self.role.loop.run()
        finally:
            done.set()
            if control_thread is not None:
                control_thread.join(10)
            if self.listener is not None:
                self.listener.close()
            stop_modules(context.loaded.modules)
            for close in self.role.closing:
                close()

    def _serve_control(self, done: threading.Event) -> None:
        """The control thread of a loop that can't poll: (once set up, build and catch up
        the listener, then) handle control messages until ``done``."""
        if self.listener is None:
            set_up, make = self.role.set_up, self.make_listener
            assert set_up is not None and make is not None
            while not set_up():
                if done.wait(SETUP_WAIT_SECONDS):
                    return
            try:
                listener = make()
                listener.start()
            except Exception:  # the replica stays not ready (its health says why)
                log.exception("control: the listener could not start")
                return
            self.listener = self.context.listener = listener
        self.listener.serve(done)

    def stop(self) -> None:
        self.role.loop.stop()


SETUP_WAIT_SECONDS = 2.0
"""How often a role with ``set_up`` looks again whether its application was set up."""


def build_replica(context: RoleContext, build: RoleBuilder) -> Replica:
    """Steps 3-4 without the server and signals: the role, then its control listener
    (later, on the control thread, for a role that waits for setup)."""
    role = build(context)

    def make() -> ControlListener:
        from streamcore.metrics import ControlMetrics
        from streamcore.runtime import build_control_listener

        return build_control_listener(
            context.runtime,
            context.platform_config,
            context.loaded.modules,
            role=context.role,
            replica=context.instance,
            hooks=context.creation_hooks or _creation_hooks(context),
            observer=ControlMetrics(context.metrics),
            actions=context.actions,
        )

    if role.set_up is None or role.polls_control:
        context.listener = make()

    def caught_up() -> str | None:
        listener = context.listener
        return (
            None if listener is not None and listener.caught_up else "control topic not caught up"
        )

    context.health.checks.append(caught_up)
    return Replica(context, role, context.listener, make)


def run_context(context: RoleContext, build: RoleBuilder, stopping: StopSignals) -> None:
    """Steps 3-6: build, serve health and metrics, handle signals, run."""
    from streamcore.metrics import serve_metrics

    replica = build_replica(context, build)
    if not stopping.bind(replica):
        log.info("%s stopped cleanly before it ran (%s)", context.role, context.instance)
        return
    server = serve_metrics(context.settings.metrics, context.metrics.registry, context.health)
    try:
        replica.run()
    finally:
        if server is not None:
            server.close()
    log.info("%s stopped cleanly (%s)", context.role, context.instance)


def _creation_hooks(context: RoleContext) -> CreationHooks:
    """An ingestion hook engine for ``refresh_on_entity_creation`` in a role without one."""
    from streamcore.metrics import HookMetrics
    from streamcore.runtime import hook_supervision

    budget, failures = hook_supervision(context.settings)
    return context.loaded.registrar.ingestion_hooks(HookMetrics(context.metrics), budget, failures)
