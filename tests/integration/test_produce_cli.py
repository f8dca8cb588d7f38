"""``streamcore produce`` on the real broker: a streamed JSON array, the summary that tells
data-points from messages, and the hint when the application has no topics yet."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from support import read_topic

from streamcore.cli import main
from streamcore.codec import TaskDecoder
from streamcore.config.samples import EXAMPLE_CONFIG_DIR, example_model
from streamcore.kafka.clients import make_admin
from streamcore.kafka.topics import ensure_topics
from streamcore.settings import Settings


def _produce(settings: Settings, app_name: str, source: Path, *extra: str) -> object:
    env = {"STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers}
    args = ["produce", str(EXAMPLE_CONFIG_DIR), str(source), "--app-name", app_name, *extra]
    return CliRunner().invoke(main, args, env=env)


def test_without_topics_produce_says_to_run_setup(
    settings: Settings, app_name: str, tmp_path: Path
) -> None:
    source = tmp_path / "one.json"
    source.write_text('[{"type": "ip", "id": "192.0.2.1", "attr": "asn", "v": 1}]')
    result = _produce(settings, app_name, source)
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert f"topic {app_name}.input does not exist" in result.output  # type: ignore[attr-defined]
    assert f"streamcore setup {EXAMPLE_CONFIG_DIR} --app-name {app_name}" in (
        result.output  # type: ignore[attr-defined]
    )
    assert "UNKNOWN_TOPIC" not in result.output  # type: ignore[attr-defined]


def test_a_streamed_array_is_sent_as_one_message_per_entity_per_batch(
    settings: Settings, app_name: str, tmp_path: Path
) -> None:
    ensure_topics(make_admin(settings.kafka), settings.topics, app_name)
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    items = [
        {
            "type": "ip",
            "id": f"192.0.2.{n % 3}",
            "attr": "hostname",
            "v": f"h{n}.example",
            "t1": (now + timedelta(seconds=n)).isoformat(),
        }
        for n in range(30)
    ]
    items.insert(7, {"type": "ip", "id": "192.0.2.1", "attr": "hostnme", "v": "typo"})
    source = tmp_path / "array.json"
    source.write_text("[\n" + ",\n".join(json.dumps(item) for item in items) + "\n]\n")
    result = _produce(settings, app_name, source, "--batch", "10", "--no-progress")
    output = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 1, output  # one item rejected
    assert "line 9: ip 192.0.2.1: unknown attribute 'hostnme' (did you mean 'hostname'?)" in (
        output
    )
    assert (
        f"sent 30 data-points in 9 messages to {app_name}.input "
        "(9 messages delivered, 0 failed); rejected 1 data-points"
    ) in output
    messages = read_topic(settings, f"{app_name}.input", expect=9)
    decoder = TaskDecoder(example_model())
    tasks = [decoder.read(message.value()) for message in messages]
    assert sorted(len(task.data_points) for task in tasks) == [3, 3, 3, 3, 3, 3, 4, 4, 4]
    assert sum(len(task.data_points) for task in tasks) == 30
