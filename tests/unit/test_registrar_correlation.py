"""Correlation hooks: paths through links, dependency order, cycles named in the error."""

from __future__ import annotations

from typing import Any

import pytest

from streamcore.errors import HookCycleError
from streamcore.model import ModelSpec
from streamcore.module import CallbackRegistrar, HookKind
from streamcore.testing.config import model_spec_from_dicts

PLAIN = {"type": "plain", "data_type": "string"}
MODEL: dict[str, Any] = {
    "ip": {
        "entity": {"id": "ip", "name": "IP", "snapshot": True},
        "attribs": {
            "a": {"name": "a", **PLAIN},
            "b": {"name": "b", **PLAIN},
            "c": {"name": "c", **PLAIN},
            "device": {"name": "d", "type": "plain", "data_type": "link<device>"},
        },
    },
    "device": {
        "entity": {"id": "device", "name": "Device", "snapshot": True},
        "attribs": {"os": {"name": "os", **PLAIN}, "tag": {"name": "tag", **PLAIN}},
    },
}


def make(name: str) -> Any:
    def hook(etype: str, values: dict[str, Any]) -> None:
        return None

    hook.__qualname__ = name
    return hook


@pytest.fixture
def model() -> ModelSpec:
    return model_spec_from_dicts(MODEL)


def test_hooks_run_after_the_writers_of_what_they_read(model: ModelSpec) -> None:
    registrar = CallbackRegistrar(model)
    c_from_b, b_from_a, a_from_os = make("c_from_b"), make("b_from_a"), make("a_from_os")
    with registrar.module_scope("m1"):
        registrar.register_correlation_hook(c_from_b, "ip", [["b"]], [["c"]])
        registrar.register_correlation_hook(b_from_a, "ip", [["a"]], [["b"]])
    with registrar.module_scope("m2"):
        registrar.register_correlation_hook_with_master_record(
            a_from_os, "ip", [["device", "os"]], [["a"]]
        )
        registrar.register_correlation_hook(make("tag"), "device", [], [["tag"]])
    ordered = registrar.registry.correlation_hooks("ip")
    assert [r.callback for r in ordered] == [a_from_os, b_from_a, c_from_b]
    assert ordered[0].kind is HookKind.CORRELATION_WITH_MASTER_RECORD
    assert [r.name for r in registrar.registry.correlation_hooks("device")] == ["tag"]
    assert len(registrar.registry.correlation_hooks()) == 4
    assert registrar.registry.used_links == {("ip", "device")}


def test_independent_hooks_keep_registration_order(model: ModelSpec) -> None:
    registrar = CallbackRegistrar(model)
    hooks = [make(f"h{i}") for i in range(4)]
    for h in hooks:
        registrar.register_correlation_hook(h, "ip", [], [])
    assert [r.callback for r in registrar.registry.correlation_hooks("ip")] == hooks


def test_a_cycle_is_refused_naming_modules_and_attributes(model: ModelSpec) -> None:
    registrar = CallbackRegistrar(model)
    with registrar.module_scope("alpha"):
        registrar.register_correlation_hook(make("b_from_a"), "ip", [["a"]], [["b"]])
    with registrar.module_scope("beta"):
        registrar.register_correlation_hook(make("c_from_b"), "ip", [["b"]], [["c"]])
    with registrar.module_scope("gamma"), pytest.raises(HookCycleError) as info:
        registrar.register_correlation_hook(make("a_from_c"), "ip", [["c"]], [["a"]])
    message = str(info.value)
    for part in ("alpha: b_from_a", "beta: c_from_b", "gamma: a_from_c", "ip.a", "ip.b", "ip.c"):
        assert part in message
    assert "ip.a -> alpha: b_from_a (correlation_hook ip) -> ip.b" in message
    # the refused hook left nothing behind; the graph still works
    assert [r.name for r in registrar.registry.correlation_hooks()] == ["b_from_a", "c_from_b"]
    registrar.register_correlation_hook(make("late"), "ip", [["c"]], [])
    assert registrar.registry.correlation_hooks()[-1].name == "late"


def test_a_hook_reading_what_it_writes_is_a_cycle(model: ModelSpec) -> None:
    registrar = CallbackRegistrar(model)
    with pytest.raises(HookCycleError, match="self_loop"):
        registrar.register_correlation_hook(make("self_loop"), "ip", [["a"]], [["a"]])


def test_cycles_through_links_are_found(model: ModelSpec) -> None:
    registrar = CallbackRegistrar(model)
    registrar.register_correlation_hook(make("os_to_a"), "ip", [["device", "os"]], [["a"]])
    registrar.register_correlation_hook(make("to_os"), "device", [], [["os"]])
    with pytest.raises(HookCycleError, match="device.os"):
        registrar.register_correlation_hook(make("x"), "ip", [["a"]], [["device", "os"]])
