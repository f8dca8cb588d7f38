"""Where the development servers live and which ports and heaps they use."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from streamcore.settings import DEV_CASSANDRA_PORT, DEV_KAFKA_PORT


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "streamcore" / "jars"


class DevSettings(BaseSettings):
    """Ports sit off the standard ones (9092, 9042) so a user's own servers are left alone.

    Environment: ``STREAMCORE_DEV_<FIELD>``, e.g. ``STREAMCORE_DEV_CASSANDRA_HEAP=768M``.
    """

    model_config = SettingsConfigDict(env_prefix="STREAMCORE_DEV_", extra="ignore")

    cache_dir: Path = Field(default_factory=_default_cache_dir)
    state_dir: Path = Field(default_factory=lambda: Path.cwd() / ".streamcore" / "dev")
    java: str = "java"
    mvn: str = "mvn"

    kafka_version: str = "4.1.1"
    log4j_version: str = "2.24.3"
    kafka_port: int = DEV_KAFKA_PORT
    kafka_controller_port: int = DEV_KAFKA_PORT + 1
    kafka_heap: str = "512M"

    cassandra_version: str = "5.0.8"
    cassandra_port: int = DEV_CASSANDRA_PORT
    cassandra_storage_port: int = 17000
    cassandra_jmx_port: int = 17199
    cassandra_heap: str = "1G"

    def server_dir(self, name: str) -> Path:
        """Config, data, log and pid file of one server."""
        return self.state_dir.resolve() / name
