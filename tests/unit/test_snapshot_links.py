"""Which link dicts a link attribute's value holds, whatever its shape: one link, a list
of them, nested lists; dicts without ``eid`` and other values are not links."""

from __future__ import annotations

from typing import Any

from streamcore.snapshot import links

LINKS: links.LinkAttrs = {"ip": {"dom": "domain"}}


def targets(value: Any) -> list[tuple[str, Any]]:
    return list(links.targets(LINKS, "ip", {"dom": value}))


def test_targets_of_every_shape() -> None:
    assert targets({"eid": "a"}) == [("domain", "a")]
    assert targets([{"eid": "a"}, {"eid": "b", "data": 1}]) == [("domain", "a"), ("domain", "b")]
    assert targets([[{"eid": "a"}], [], [[{"eid": "b"}]], {"eid": "c"}]) == [
        ("domain", "a"),
        ("domain", "b"),
        ("domain", "c"),
    ]
    assert targets({"no": "eid"}) == []
    assert targets([{"no": "eid"}, "a", None, 3]) == []
    assert targets(None) == []
    assert list(links.targets(LINKS, "other", {"dom": {"eid": "a"}})) == []


def test_attach_then_detach_leaves_the_values_as_they_were() -> None:
    ip = {"eid": "1", "dom": [[{"eid": "a"}], {"eid": "gone"}]}
    domain = {"eid": "a"}
    loaded = {("ip", "1"): ip, ("domain", "a"): domain}
    links.attach(LINKS, loaded, keep_empty=True)
    assert ip["dom"][0][0]["record"] is domain  # type: ignore[index]
    assert ip["dom"][1]["record"] == {"eid": "gone"}  # type: ignore[index]
    links.detach(LINKS, "ip", ip)
    assert ip == {"eid": "1", "dom": [[{"eid": "a"}], {"eid": "gone"}]}
