"""Resolve a server's classpath from Maven Central with ``mvn``, once per version."""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from pathlib import Path
from xml.sax.saxutils import escape

from streamcore.dev.toolchain import Toolchain
from streamcore.errors import DevServerError

log = logging.getLogger(__name__)

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>streamcore.dev</groupId>
  <artifactId>{name}</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
{dependencies}
  </dependencies>
</project>
"""
_DEPENDENCY = (
    "    <dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
    "<version>{version}</version></dependency>"
)
_COMPLETE = ".complete"


def classpath_dir(cache_dir: Path, name: str, artifacts: list[str], tools: Toolchain) -> Path:
    """The folder holding every jar ``artifacts`` (``group:artifact:version``) need.

    The folder is keyed by the artifact list, so a version change resolves anew and an
    interrupted download (no ``.complete`` marker) is redone rather than half-used.
    ``mvn`` (and the ``java`` it runs on) is resolved only when the folder is missing.
    """
    key = "_".join(a.rsplit(":", 2)[-2] + "-" + a.rsplit(":", 1)[-1] for a in artifacts)
    target = cache_dir / name / key
    if (target / _COMPLETE).exists():
        return target / "lib"
    dependencies = []
    for artifact in artifacts:
        group, artifact_id, version = artifact.split(":")
        dependencies.append(
            _DEPENDENCY.format(
                group=escape(group), artifact=escape(artifact_id), version=escape(version)
            )
        )
    log.info("Fetching %s jars (%s) from Maven Central", name, ", ".join(artifacts))
    started = time.monotonic()
    _run_mvn(
        target,
        name,
        "\n".join(dependencies),
        [
            "dependency:copy-dependencies",
            f"-DoutputDirectory={target / 'lib'}",
            "-DincludeScope=runtime",
        ],
        tools,
    )
    if not any((target / "lib").glob("*.jar")):
        raise DevServerError(f"mvn resolved no {name} jars")
    (target / _COMPLETE).write_text(f"{time.monotonic() - started:.1f}\n")
    log.info("Fetched %s jars in %.1f s", name, time.monotonic() - started)
    return target / "lib"


def unpacked_distribution(cache_dir: Path, name: str, artifact: str, tools: Toolchain) -> Path:
    """The folder an archive artifact (``group:artifact:version:type:classifier``, e.g. a
    Quarkus application's ``tar.gz`` distribution) unpacks into, fetched once.

    Keyed and marked like ``classpath_dir``: a version change fetches anew, an interrupted
    fetch is redone.
    """
    version = artifact.split(":")[2]
    target = cache_dir / name / version
    if (target / _COMPLETE).exists():
        return target / "dist"
    log.info("Fetching %s (%s) from Maven Central", name, artifact)
    started = time.monotonic()
    _run_mvn(
        target,
        name,
        "",
        ["dependency:unpack", f"-Dartifact={artifact}", f"-DoutputDirectory={target / 'dist'}"],
        tools,
    )
    if not any((target / "dist").iterdir()):
        raise DevServerError(f"mvn unpacked nothing from {artifact}")
    (target / _COMPLETE).write_text(f"{time.monotonic() - started:.1f}\n")
    log.info("Fetched %s in %.1f s", name, time.monotonic() - started)
    return target / "dist"


def _run_mvn(
    target: Path, name: str, dependencies: str, arguments: list[str], tools: Toolchain
) -> None:
    """Run one ``mvn`` goal on a throw-away POM in a fresh ``target`` folder."""
    mvn = tools.mvn
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    pom = target / "pom.xml"
    pom.write_text(_POM.format(name=name, dependencies=dependencies))
    result = subprocess.run(
        [mvn, "-B", "-q", "-f", str(pom), *arguments],
        capture_output=True,
        text=True,
        check=False,
        env=tools.mvn_env(),
    )
    if result.returncode != 0:
        raise DevServerError(
            f"mvn could not fetch {name} (exit {result.returncode}):\n"
            f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
