"""streamcore: DP³'s entity-profile processing on Apache Kafka and Apache Cassandra.

The door for module authors: everything a module needs is importable from here::

    from streamcore import BaseModule, CallbackRegistrar, DataPoint, DataPointTask, PlatformConfig

DP³'s own paths are mirrored under ``streamcore.common`` for porting; the test harness is
``streamcore.testing``.
"""

# First: the compiled hot path, when built and fresh, must be found before its modules are
# imported (``streamcore/native.py``).
from streamcore.native import install as _install_native

_install_native()

from streamcore.config.platform import PlatformConfig
from streamcore.errors import (
    ConfigError,
    DuplicateHookError,
    HookRegistrationError,
    InvalidDataPointError,
    ModuleError,
    StreamcoreError,
)
from streamcore.model.datapoint import DataPoint, DataPointTask, Link
from streamcore.model.modelspec import ModelSpec
from streamcore.model.primitives import MACAddress
from streamcore.model.spec import AttrType
from streamcore.module.base import BaseModule
from streamcore.module.flag import SharedFlag
from streamcore.module.hooks import HookKind
from streamcore.module.registrar import CallbackRegistrar

__version__ = "0.1.0"

__all__ = [
    "AttrType",
    "BaseModule",
    "CallbackRegistrar",
    "ConfigError",
    "DataPoint",
    "DataPointTask",
    "DuplicateHookError",
    "HookKind",
    "HookRegistrationError",
    "InvalidDataPointError",
    "Link",
    "MACAddress",
    "ModelSpec",
    "ModuleError",
    "PlatformConfig",
    "SharedFlag",
    "StreamcoreError",
    "__version__",
]
