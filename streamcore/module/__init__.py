"""The module API: ``BaseModule``, ``CallbackRegistrar``, the hook engines and the loader.

Stage three of the data flow (model -> codec -> module API -> ...): pure code that knows
nothing of Kafka or Cassandra. Modules see ``BaseModule`` and ``CallbackRegistrar``; the
workers see ``load_modules``, ``IngestionHooks`` and ``HookRegistry``.
"""

from streamcore.module.base import BaseModule
from streamcore.module.dispatch import HookObserver, IngestionHooks
from streamcore.module.flag import SharedFlag
from streamcore.module.hooks import HookKind, HookRegistration
from streamcore.module.loader import LoadedModules, load_modules, start_modules, stop_modules
from streamcore.module.registrar import CallbackRegistrar
from streamcore.module.registry import HookRegistry
from streamcore.module.schedule import ScheduledJob

__all__ = [
    "BaseModule",
    "CallbackRegistrar",
    "HookKind",
    "HookObserver",
    "HookRegistration",
    "HookRegistry",
    "IngestionHooks",
    "LoadedModules",
    "ScheduledJob",
    "SharedFlag",
    "load_modules",
    "start_modules",
    "stop_modules",
]
