"""Sample data for the example application in ``config/``: one task per entity type that
together use every attribute kind and data type. Used by tests and ``bench/``, and handy
when trying a fresh setup (``streamcore produce``)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from streamcore.config import load_config
from streamcore.model import DataPoint, DataPointTask, ModelSpec

EXAMPLE_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@lru_cache(maxsize=1)
def example_model() -> ModelSpec:
    """The model of the example configuration (loaded once)."""
    return load_config(EXAMPLE_CONFIG_DIR).model_spec


def dp(attr: str, v: Any, **kw: Any) -> DataPoint:
    """A data-point whose etype and eid the task fills in."""
    return DataPoint(None, None, attr, v, **kw)


def every_kind_tasks() -> list[DataPointTask]:
    """Tasks covering every data type and attribute kind of the example configuration."""
    t = "2024-05-01T12:00:00Z"
    ip = DataPointTask(
        "ip",
        "192.0.2.1",
        [
            dp("note", "home router", src="web"),
            dp("is_public", False),
            dp("blocked", True),
            dp("asn", 2852),
            dp("bytes_total", 2**40),
            dp("first_seen", "2024-01-01T00:00:00+02:00"),
            dp("raw_whois", {"org": "CESNET", "nets": [[1, 2.5], {"x": None}], "ok": True}),
            dp("extra", [1, "two", {"three": 3.0}]),
            dp("ipv6_twin", "2001:DB8::1"),
            dp("risk", "medium"),
            dp("open_ports", [22, 80, 443], t1=t, t2="2024-05-01T12:10:00Z"),
            dp("services", ["ssh", "http"], t1=t),
            dp("hostname", "gw.example.org", t1=t, c=0.7),
            dp("rep_score", 0.25, t1=T0, c=1),
            dp("last_conn", {"port": 443, "proto": "tcp"}, t1=t),
            dp("device", {"eid": "AA-BB-CC-00-11-22"}, t1=t),
            dp("domains", [{"eid": "example.org"}, {"eid": "example.com"}]),
            dp("talks_to", {"eid": "198.51.100.7", "data": 1234567890123}, t1=t),
            dp("traffic", {"packets": [1, 2, 3], "bytes": [100, 200, 2**33]}, t1=t),
            dp("alerts", {"time": [t, "2024-05-01T12:01:00Z"], "severity": [0.5, 1]}, t1=t),
            dp(
                "flows",
                {
                    "time_first": [t, "2024-05-01T12:02:00Z"],
                    "time_last": ["2024-05-01T12:01:00Z", "2024-05-01T12:03:00Z"],
                    "packets": [10, 20],
                },
                t1=t,
            ),
        ],
        tags=["unit"],
        ttl_tokens={"seen": datetime(2024, 6, 1, tzinfo=UTC)},
    )
    device = DataPointTask(
        "device",
        "aa:bb:cc:00:11:22",
        [
            dp("vendor", "Acme"),
            dp("os", "linux", t1=t, c=0.9),
            dp("seen_at", 1714564800, t1=t),
            dp("owner", {"eid": "42", "data": "primary"}),
        ],
    )
    domain = DataPointTask(
        "domain",
        "example.org",
        [
            dp("resolves_to", ["192.0.2.1", "192.0.2.2"], t1=t),
            dp("mail_servers", [{"eid": "mx.example.org"}]),
        ],
    )
    person = DataPointTask("person", "42", [dp("name", "Ada"), dp("mac", "00:11:22:33:44:55")])
    deleted = DataPointTask("person", 7, delete=True)
    return [ip, device, domain, person, deleted]
