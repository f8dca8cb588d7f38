"""A user's Kafka options reach librdkafka in a real ``streamcore worker``: with
``STREAMCORE_KAFKA__CLIENT_OPTIONS`` setting ``linger.ms`` and ``compression.type`` (and
librdkafka's ``debug=conf``, which makes every client print the configuration it was
created with), the worker's transactional output and its control producer run the
user's values, not streamcore's defaults (5 and 20 ms, lz4)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from role_processes import role_env, role_processes
from support import CONFIGS, application

from streamcore.settings import Settings


def client_configs(log: str) -> dict[str, dict[str, str]]:
    """librdkafka client name -> the configuration it printed (``debug=conf``)."""
    configs: dict[str, dict[str, str]] = {}
    for name, key, value in re.findall(
        r"\|CONF\|(rdkafka#\w+-\d+)\| \[thrd:\w+\]:   (\S+) = (.*)", log
    ):
        configs.setdefault(name, {})[key] = value.strip()
    return configs


def test_a_users_linger_and_compression_reach_the_workers_producers(
    settings: Settings, app_name: str, keyspace: str, tmp_path: Path
) -> None:
    options = {"linger.ms": "1234", "compression.type": "zstd", "debug": "conf"}
    env = role_env(settings, keyspace, STREAMCORE_KAFKA__CLIENT_OPTIONS=json.dumps(options))
    with (
        application(settings, app_name, keyspace, config=CONFIGS / "roles"),
        role_processes(["worker"], CONFIGS / "roles", app_name, env, tmp_path) as (worker,),
    ):
        configs = client_configs(worker.log.read_text(errors="replace"))

    producers = {name: c for name, c in configs.items() if "producer" in name}
    transactional = [c for c in producers.values() if "transactional.id" in c]
    assert len(transactional) == 1, list(producers)
    assert len(producers) >= 2  # the control acknowledgements' producer too
    for config in producers.values():
        assert config["queue.buffering.max.ms"] == "1234"  # librdkafka's name of linger.ms
        assert config["compression.codec"] == "zstd"
    assert transactional[0]["enable.idempotence"] == "true"
