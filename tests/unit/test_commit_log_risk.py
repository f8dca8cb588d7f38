"""The worker's start-up warning about a Cassandra that can lose acknowledged writes."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest

from streamcore.state.durability import (
    REPLICATION_QUERY,
    SETTING_QUERY,
    check_commit_log,
    commit_log_risk,
    replicas,
)


def test_replicas_of_either_strategy() -> None:
    simple = {"class": "org.apache.cassandra.locator.SimpleStrategy", "replication_factor": "3"}
    assert replicas(simple, None) == 3
    nts = {"class": "org.apache.cassandra.locator.NetworkTopologyStrategy", "dc1": "3", "dc2": "1"}
    assert replicas(nts, "dc1") == 3
    assert replicas(nts, "dc2") == 1
    assert replicas(nts, None) == 1  # unknown DC: the weakest one counts


def test_only_periodic_on_a_single_replica_is_a_risk() -> None:
    risk = commit_log_risk("periodic", "ks", 1)
    assert risk is not None and "ks keeps 1 replica" in risk and "commitlog_sync" in risk
    assert commit_log_risk("periodic", "ks", 2) is None  # LOCAL_QUORUM: both replicas
    assert commit_log_risk("batch", "ks", 1) is None
    assert commit_log_risk("group", "ks", 1) is None


class FakeSession:
    def __init__(self, mode: str | None, replication: dict[str, str], fail: bool = False) -> None:
        self.mode, self.replication, self.fail = mode, replication, fail

    def execute(self, query: str, params: Any = None) -> Any:
        if self.fail:
            raise RuntimeError("unconfigured table settings")
        if query == SETTING_QUERY:
            row = None if self.mode is None else SimpleNamespace(value=self.mode)
        else:
            assert query == REPLICATION_QUERY and params == ("ks",)
            row = SimpleNamespace(replication=self.replication)
        return SimpleNamespace(one=lambda: row)


def test_the_warning_is_logged_and_an_unknown_mode_starts_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    one = {"class": "SimpleStrategy", "replication_factor": "1"}
    with caplog.at_level(logging.WARNING, "streamcore.state.durability"):
        assert check_commit_log(FakeSession("periodic", one), "ks", None) is not None
    assert "can lose state whose input offsets are already committed" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, "streamcore.state.durability"):
        assert check_commit_log(FakeSession(None, one), "ks", None) is None
        assert check_commit_log(FakeSession("periodic", one, fail=True), "ks", None) is None
    assert caplog.text == ""
