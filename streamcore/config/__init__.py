"""The application's configuration directory (DP³ format), parsed once into typed sections."""

from streamcore.config.loader import AppConfig, load_config
from streamcore.config.platform import HierarchicalDict, PlatformConfig
from streamcore.config.sections import (
    ControlConfig,
    CronExpression,
    HistoryManagerConfig,
    ProcessingCoreConfig,
    SnapshotsConfig,
    UpdaterConfig,
)

__all__ = [
    "AppConfig",
    "ControlConfig",
    "CronExpression",
    "HierarchicalDict",
    "HistoryManagerConfig",
    "PlatformConfig",
    "ProcessingCoreConfig",
    "SnapshotsConfig",
    "UpdaterConfig",
    "load_config",
]
