"""Who may change what every replica runs: control messages signed with a shared key.

Anyone who can write the control topic could otherwise reconfigure every module, and the
topic would replay the forgery to every future replica. With ``STREAMCORE_CONTROL__SECRET``
set, ``streamcore control`` signs each message and every replica refuses one that is
unsigned or badly signed (``ControlListener``: logged, counted in
``streamcore_control_refused_total{reason}``, acknowledged as failed, never applied, and
left out of the catch-up replay).

The signature travels in the Kafka header ``streamcore-signature`` as
``hmac-sha256=<hex>``, so the message bytes (Avro) are unchanged and older readers are not
confused. It is HMAC-SHA256 under the shared key over ``streamcore-control-v1``, the
control topic's name and the message value, each followed by a NUL byte (the value last):
binding the topic keeps a message signed for one application from being accepted by
another that shares the key. A copy of a signed message re-appended to the same topic
verifies too; the listener refuses it by its ``issued_at`` (see ``ReplayGuard``).

Without a secret, messages are neither signed nor checked, and each listener warns at start
that its control topic is unauthenticated.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from streamcore.errors import StreamcoreError
from streamcore.kafka.consumer import Headers
from streamcore.model.control import ControlAction, ControlMessage
from streamcore.settings import ControlSettings

SIGNATURE_HEADER = "streamcore-signature"
_SCHEME = b"hmac-sha256="
_CONTEXT = b"streamcore-control-v1\0"


class Refusal:
    """Why a control message was refused (the ``reason`` label of the refusal counter)."""

    UNSIGNED = "unsigned"
    BAD_SIGNATURE = "bad_signature"
    REPLAYED = "replayed"


class ControlSignature:
    """Signs and checks the control messages of one topic under one shared key."""

    def __init__(self, secret: str, topic: str) -> None:
        if not secret:
            raise StreamcoreError("STREAMCORE_CONTROL__SECRET is set but empty")
        self._key = secret.encode()
        self._prefix = _CONTEXT + topic.encode() + b"\0"

    @classmethod
    def from_settings(cls, settings: ControlSettings, topic: str) -> ControlSignature | None:
        """The signature of ``topic``'s messages; None when no secret is configured."""
        if settings.secret is None:
            return None
        return cls(settings.secret.get_secret_value(), topic)

    def _mac(self, value: bytes) -> bytes:
        return hmac.new(self._key, self._prefix + value, hashlib.sha256).hexdigest().encode()

    def headers(self, value: bytes) -> Headers:
        """The headers to produce ``value`` with."""
        return [(SIGNATURE_HEADER, _SCHEME + self._mac(value))]

    def refusal(self, value: bytes, headers: Headers | None) -> str | None:
        """None when ``value`` carries a valid signature, else the ``Refusal`` reason."""
        signatures = [
            v.encode() if isinstance(v, str) else v
            for k, v in headers or ()
            if k == SIGNATURE_HEADER and v is not None
        ]
        if not signatures:
            return Refusal.UNSIGNED
        expected = _SCHEME + self._mac(value)
        # Exactly one signature header, compared in constant time.
        if len(signatures) == 1 and hmac.compare_digest(signatures[0], expected):
            return None
        return Refusal.BAD_SIGNATURE


class ReplayGuard:
    """Refuses a signed message that is a copy of an older one, by its ``issued_at``.

    Per action and subject (module or entity type), ``issued_at`` must increase: a copy of
    an old, validly signed ``refresh_module_config`` appended again would otherwise roll a
    module back to an old configuration. ``ping`` is exempt (it changes nothing). The
    sender's clock sets ``issued_at``, so two operators' refreshes of one module need
    clocks that agree to better than the time between them.
    """

    def __init__(self) -> None:
        self._last: dict[tuple[ControlAction, str], datetime] = {}

    def refusal(self, message: ControlMessage) -> str | None:
        if message.action is ControlAction.PING:
            return None
        subject = message.payload.get("module") or message.payload.get("etype") or ""
        key = (message.action, subject)
        last = self._last.get(key)
        if message.issued_at is None or (last is not None and message.issued_at <= last):
            return Refusal.REPLAYED
        self._last[key] = message.issued_at
        return None
