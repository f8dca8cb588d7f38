"""confluent-kafka's registry client (httpx, authlib, attrs: ~22 MiB of RSS per process) is
loaded only by processes that use the Confluent wire format."""

from __future__ import annotations

import subprocess
import sys

REGISTRY_CLIENT = "confluent_kafka.schema_registry"

_CHECK = """
import sys
import streamcore.api.server, streamcore.cli, streamcore.producer, streamcore.runtime
from streamcore.kafka.registry import RegistryIds, topic_framing
from streamcore.settings import Settings, SchemaRegistrySettings

settings = Settings()
framing = topic_framing(settings, "app.input")
print(framing is None, {client!r} in sys.modules)
RegistryIds(SchemaRegistrySettings(url="http://127.0.0.1:9"))
print({client!r} in sys.modules)
"""


def test_single_object_processes_never_import_the_registry_client() -> None:
    check = _CHECK.format(client=REGISTRY_CLIENT)
    out = subprocess.run(
        [sys.executable, "-c", check],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout.split("\n")
    # The default wire format: no framing, and the client never imported.
    assert out[0] == "True False"
    # The Confluent format's client does load it (the check can see an import).
    assert out[1] == "True"
