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
    mvn = tools.mvn
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    dependencies = []
    for artifact in artifacts:
        group, artifact_id, version = artifact.split(":")
        dependencies.append(
            _DEPENDENCY.format(
                group=escape(group), artifact=escape(artifact_id), version=escape(version)
            )
        )
    pom = target / "pom.xml"
    pom.write_text(_POM.format(name=name, dependencies="\n".join(dependencies)))
    log.info("Fetching %s jars (%s) from Maven Central", name, ", ".join(artifacts))
    started = time.monotonic()
    result = subprocess.run(
        [
            mvn,
            "-B",
            "-q",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={target / 'lib'}",
            "-DincludeScope=runtime",
        ],
        capture_output=True,
        text=True,
        check=False,
        env=tools.mvn_env(),
    )
    if result.returncode != 0 or not any((target / "lib").glob("*.jar")):
        raise DevServerError(
            f"mvn could not resolve {name} jars (exit {result.returncode}):\n"
            f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    (target / _COMPLETE).write_text(f"{time.monotonic() - started:.1f}\n")
    log.info("Fetched %s jars in %.1f s", name, time.monotonic() - started)
    return target / "lib"
