"""The order in which a Kafka client's options are layered: library defaults first, the
user's options last, then only what streamcore's guarantees depend on.

1. ``defaults``: streamcore's choices for this client (``linger.ms``, compression,
   partitioner, fetch wait, ...), tuned for its use but not needed for correctness;
2. ``client``: ``KafkaSettings.client_config()``, the connection and the user's
   ``STREAMCORE_KAFKA__CLIENT_OPTIONS``, so a user's ``linger.ms`` or
   ``compression.type`` wins over step 1, in every producer and consumer;
3. ``required``: what at-least-once and the transactions rest on (``group.id``,
   manual offset storing, ``read_committed``, ``transactional.id``, idempotence): a user
   option can't turn these off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def layered(
    defaults: Mapping[str, Any], client: Mapping[str, Any], required: Mapping[str, Any] = {}
) -> dict[str, Any]:
    """``defaults``, overridden by ``client`` (the user's), overridden by ``required``."""
    return {**defaults, **client, **required}
