"""The KRaft cluster id handed to kafka-storage format."""

from __future__ import annotations

import base64
import uuid

import pytest

from streamcore.dev import kafka


def test_cluster_id_is_a_base64url_uuid() -> None:
    cluster_id = kafka.new_cluster_id()
    assert len(cluster_id) == 22
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_an_id_starting_with_a_dash_is_redrawn(monkeypatch: pytest.MonkeyPatch) -> None:
    # 0xf8 encodes to "-" as the first base64url character: the storage tool's parser
    # read such an id as an option and formatting failed.
    drawn = iter([uuid.UUID(bytes=b"\xf8" + b"\x00" * 15), uuid.UUID(int=1)])
    monkeypatch.setattr(uuid, "uuid4", lambda: next(drawn))
    cluster_id = kafka.new_cluster_id()
    assert not cluster_id.startswith("-")
    assert base64.urlsafe_b64decode(cluster_id + "==") == uuid.UUID(int=1).bytes
