"""Apicurio Registry as the dev schema registry, for the Confluent wire format.

Maven Central carries Apicurio's ready-built Quarkus application (``apicurio-registry-app``
with the ``all`` classifier, a ``tar.gz`` of the Quarkus app: runner jar and ``lib/``), so
no build step is needed: ``mvn dependency:unpack`` fetches it once into the jar cache and
``java -jar`` runs it, on a Java 21+ of its own (``Toolchain.registry_java``). Its
default storage is SQL on an in-memory H2 database, so every start is an empty registry, as
a test wants. Clients use its Confluent-compatible API (``/apis/ccompat/v7``); readiness is
that API answering.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from streamcore.dev.jars import unpacked_distribution
from streamcore.dev.layout import DevSettings
from streamcore.dev.toolchain import Toolchain
from streamcore.errors import DevServerError

CCOMPAT_PATH = "/apis/ccompat/v7"


def registry_url(port: int) -> str:
    """The Confluent-compatible API of the registry on ``port``."""
    return f"http://127.0.0.1:{port}{CCOMPAT_PATH}"


def registry_answers(port: int, timeout: float = 1.0) -> bool:
    """True when the Confluent-compatible API lists subjects (the registry is ready)."""
    try:
        with urllib.request.urlopen(f"{registry_url(port)}/subjects", timeout=timeout) as reply:
            return bool(reply.status == 200)
    except (OSError, urllib.error.URLError):
        return False


class RegistryServerFiles:
    """The unpacked Apicurio application and the command that runs it."""

    name = "registry"

    def __init__(self, settings: DevSettings, tools: Toolchain) -> None:
        self.settings = settings
        self.tools = tools
        self.directory = settings.server_dir(self.name)

    def classpath(self) -> Path:
        version = self.settings.registry_version
        return unpacked_distribution(
            self.settings.cache_dir,
            self.name,
            f"io.apicurio:apicurio-registry-app:{version}:tar.gz:all",
            self.tools,
        )

    def write_config(self) -> None:
        """Nothing to write: the few settings it needs go on the command line."""
        self.directory.mkdir(parents=True, exist_ok=True)

    def command(self, classpath: Path) -> list[str]:
        s = self.settings
        return [
            self.tools.registry_java,
            f"-Xmx{s.registry_heap}",
            # A dev server: start fast rather than reach peak speed.
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-Djava.awt.headless=true",
            f"-Dquarkus.http.port={s.registry_port}",
            "-Dquarkus.http.host=127.0.0.1",
            f"-Dquarkus.management.port={s.registry_management_port}",
            "-Dquarkus.management.host=127.0.0.1",
            "-jar",
            str(_runner_jar(classpath)),
        ]


def _runner_jar(directory: Path) -> Path:
    """3.0.x ships ``<artifact>-<version>-runner.jar``; later ones ``quarkus-run.jar``."""
    found = sorted(directory.glob("*-runner.jar")) or sorted(directory.glob("quarkus-run.jar"))
    if not found:
        raise DevServerError(f"no runner jar in {directory}")
    return found[0]
