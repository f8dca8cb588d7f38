"""The loader: enabled modules imported by path, constructed, failures named at start-up."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from streamcore.errors import DuplicateHookError, ModuleError, ModuleLoadError
from streamcore.module import BaseModule, load_modules, start_modules, stop_modules
from streamcore.testing import model_spec_from_dicts, platform_config_for

MODEL: dict[str, Any] = {
    "ip": {
        "entity": {"id": "ip", "name": "IP", "snapshot": True},
        "attribs": {"a": {"name": "a", "type": "plain", "data_type": "string"}},
    },
}

HEADER = "from streamcore import BaseModule, CallbackRegistrar, PlatformConfig\n"

GOOD = HEADER + textwrap.dedent(
    """
    class Good(BaseModule):
        def __init__(self, platform_config, module_config, registrar):
            super().__init__(platform_config, module_config, registrar)
            self.seen = module_config
            registrar.register_on_new_attr_hook(self.hook, "ip", "a")
            self.events = []

        def hook(self, eid, dp):
            return None

        def start(self):
            self.events.append("start")

        def stop(self):
            self.events.append("stop")
    """
)


def load(tmp_path: Path, files: dict[str, str], enabled: list[str], **modules: Any) -> Any:
    modules_dir = tmp_path / "modules"
    for name, text in files.items():
        path = modules_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    config = {
        "processing_core": {"modules_dir": "modules", "enabled_modules": enabled},
        "modules": modules,
    }
    platform = platform_config_for(
        model_spec_from_dicts(MODEL), config=config, config_base_path=tmp_path
    )
    return load_modules(platform)


def test_modules_load_in_order_with_their_configs(tmp_path: Path) -> None:
    files = {
        "good.py": GOOD,
        "pkg/impl.py": HEADER + "class Packaged(BaseModule):\n    pass\n",
        "pkg/__init__.py": "from .impl import Packaged\n\nclass Main(Packaged):\n    pass\n",
    }
    registrar, modules = load(tmp_path, files, ["good", "pkg"], good={"x": 1})
    assert list(modules) == ["good", "pkg"]
    assert modules["good"].seen == {"x": 1}
    assert type(modules["pkg"]).__name__ == "Main"  # defined in the package, most derived
    assert [r.module for r in registrar.registry.registrations] == ["good"]
    start_modules(modules)
    stop_modules(modules)
    assert modules["good"].events == ["start", "stop"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "module 'm': neither .*m.py nor .*__init__.py exists"),
        ({"m.py": "import nothing_like_this\n"}, "module 'm': import of .* ModuleNotFoundError"),
        ({"m.py": "x = (\n"}, "module 'm': import of .* SyntaxError"),
        ({"m.py": "class M:\n    pass\n"}, "module 'm': no subclass of BaseModule"),
        ({"m.py": HEADER}, "module 'm': no subclass of BaseModule"),  # imported, not defined
        (
            {"m.py": HEADER + "class A(BaseModule): pass\nclass B(BaseModule): pass\n"},
            r"module 'm': several BaseModule subclasses \(A, B\)",
        ),
        (
            {"m.py": HEADER + "class M(BaseModule):\n    def load_config(self, c, m): 1 / 0\n"},
            "module 'm': M failed to start: ZeroDivisionError",
        ),
    ],
)
def test_failures_name_the_module_and_the_cause(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    with pytest.raises(ModuleLoadError, match=message):
        load(tmp_path, files, ["m"])


def test_a_hook_registered_twice_stops_start_up(tmp_path: Path) -> None:
    twice = GOOD.replace(
        'registrar.register_on_new_attr_hook(self.hook, "ip", "a")',
        'registrar.register_on_new_attr_hook(self.hook, "ip", "a")\n'
        '        registrar.register_on_new_attr_hook(self.hook, "ip", "a")',
    )
    with pytest.raises(ModuleLoadError, match="module 'twice': Good failed to start") as info:
        load(tmp_path, {"twice.py": twice}, ["twice"])
    assert isinstance(info.value, ModuleError)
    assert isinstance(info.value.__cause__, DuplicateHookError)
    assert "twice: Good.hook (on_new_attr ip/a)" in str(info.value)


def test_a_failing_start_is_named_and_stop_failures_are_only_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(BaseModule):
        def start(self) -> None:
            raise RuntimeError("no thread")

        def stop(self) -> None:
            raise RuntimeError("stuck")

    platform = platform_config_for(model_spec_from_dicts(MODEL))
    from streamcore.module import CallbackRegistrar

    modules = {"broken": Broken(platform, {}, CallbackRegistrar(platform.model_spec))}
    with pytest.raises(ModuleLoadError, match="module 'broken': start\\(\\) failed"):
        start_modules(modules)
    stop_modules(modules)
    assert "broken" in caplog.text and "stop() failed" in caplog.text
