"""Entity reads' row factory: the driver's rows, without a new class per result."""

from __future__ import annotations

from cassandra.cluster import EXEC_PROFILE_DEFAULT
from cassandra.query import named_tuple_factory

from streamcore.settings import CassandraSettings
from streamcore.state.session import ROWS_PROFILE, cluster_options, named_tuple_rows


def test_rows_match_the_drivers_and_share_one_class() -> None:
    columns = ["attr", "key", "v", "system.count(*)"]
    rows = [("asn", b"", "1", 3), ("bytes_total", b"", "2", 4)]
    ours, theirs = named_tuple_rows(columns, rows), named_tuple_factory(columns, rows)
    assert ours == theirs
    assert [r._fields for r in ours] == [r._fields for r in theirs]
    assert type(named_tuple_rows(columns, rows[:1])[0]) is type(ours[0])


def test_only_the_rows_profile_uses_it() -> None:
    """The driver reads lightweight-transaction results (the fences') only with its own
    factories: the default profile must keep the driver's."""
    profiles = cluster_options(CassandraSettings(), 5.0, 30.0)["execution_profiles"]
    assert profiles[ROWS_PROFILE].row_factory is named_tuple_rows
    assert profiles[EXEC_PROFILE_DEFAULT].row_factory is named_tuple_factory
