"""Test helpers for module authors: run hooks without Kafka, Cassandra or a worker.

``ModuleHarness`` loads modules as the worker does and sends tasks through the real
ingestion hook engine in DP³'s order, following derived tasks; ``HarnessRun`` holds what
happened. ``model_spec_from_dicts``/``platform_config_for`` build small configurations.
"""

from streamcore.testing.config import load_app_config, model_spec_from_dicts, platform_config_for
from streamcore.testing.harness import ModuleHarness
from streamcore.testing.run import Failure, HarnessRun, HookFailed
from streamcore.testing.snapshots import SnapshotRun

__all__ = [
    "Failure",
    "HarnessRun",
    "HookFailed",
    "ModuleHarness",
    "SnapshotRun",
    "load_app_config",
    "model_spec_from_dicts",
    "platform_config_for",
]
