"""``BaseModule``: what every module subclasses, exactly as in DP³.

Lifecycle of a module, driven by the loader and the worker:

1. ``__init__(platform_config, module_config, registrar)``: the base constructor creates
   ``self.refresh`` and ``self.log`` and calls ``load_config``; the subclass then registers
   its hooks with ``registrar`` (registering later is not supported);
2. ``start()`` once the platform is initialized (start own threads here);
3. hooks are called by the engines, from the worker's thread;
4. ``load_config`` again whenever the control action ``refresh_module_config`` reloads the
   module's configuration at run time (then ``self.refresh`` is set);
5. ``stop()`` before the platform shuts down (stop and join own threads here).
"""

from __future__ import annotations

import logging
from typing import Any

from streamcore.config.platform import PlatformConfig
from streamcore.module.flag import SharedFlag
from streamcore.module.registrar import CallbackRegistrar


class BaseModule:
    """Base class of platform modules; only its subclasses are loaded as modules.

    Attributes:
        refresh: set when the module's configuration was reloaded and the values its
            refreshable hooks derived should be recomputed
        log: the module's logger, named after its class
    """

    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        """Initialize the module; subclasses register their hooks after calling this.

        Args:
            platform_config: the platform configuration (model, app name, process index)
            module_config: the module's ``modules/<name>.yml``, ``{}`` if there is none
            registrar: the callback registration interface
        """
        self.refresh: SharedFlag = SharedFlag(False, banner=f"Refresh {self.__class__.__name__}")
        self.log: logging.Logger = logging.getLogger(self.__class__.__name__)
        self.load_config(platform_config, module_config)

    def load_config(self, config: PlatformConfig, module_config: dict[str, Any]) -> None:
        """Read the module's configuration; called on start-up and on every reload."""

    def start(self) -> None:
        """Start the module's own threads, if any; called after the platform is initialized."""
        return None

    def stop(self) -> None:
        """Stop the module's own threads, if any; called before the platform shuts down."""
        return None
