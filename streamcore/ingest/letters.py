"""Dead letters: what a worker could not use, with why, and as much of it as always fits.

A letter keeps the original record's bytes so nothing is lost, but only up to
``max_value_bytes``: a record just under the broker's message limit plus the letter's own
fields would not fit in a message, and a letter that can't be produced would stall the
partition forever. What was cut is said in the letter's message.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from streamcore.errors import DataPointError, RawRecord
from streamcore.model.control import DeadLetter

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000


def dead_letter(exc: DataPointError, raw: RawRecord, max_value_bytes: int) -> DeadLetter:
    """The letter for ``raw``, refused because of ``exc``."""
    message = str(exc)
    if len(message) > MAX_MESSAGE_CHARS:
        message = f"{message[:MAX_MESSAGE_CHARS]}... ({len(message)} characters)"
    value = raw.value
    if value is not None and len(value) > max_value_bytes:
        message = f"{message} [original {len(value)} bytes, first {max_value_bytes} kept]"
        value = value[:max_value_bytes]
    key = raw.key[:max_value_bytes] if raw.key is not None else None
    log.warning("dead-lettering %s:%s@%s: %s", raw.topic, raw.partition, raw.offset, message)
    return DeadLetter(
        reason=exc.reason,
        message=message,
        topic=raw.topic,
        partition=raw.partition,
        offset=raw.offset,
        key=key,
        value=value,
        timestamp=datetime.now(UTC),
    )
