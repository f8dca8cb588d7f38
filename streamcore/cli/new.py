"""``streamcore new APP_DIR``: a new application that passes ``check-config`` and its tests.

What it writes (nothing if ``APP_DIR`` exists and is not empty):

- ``config/``: ``processing_core.yml`` (the app name, ``modules_dir``, the module enabled),
  ``db_entities/ip.yml`` (one entity type), ``modules/labeler.yml`` (the module's settings);
- ``modules/labeler.py``: a module with an ``on_new_attr`` hook;
- ``tests/test_labeler.py``: its test, on ``streamcore.testing.ModuleHarness``;
- ``values.yaml``: Helm values for the chart in ``helm/streamcore`` carrying the config and
  the module as files; ``README.md``: the commands to check, test, set up and run it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click
import yaml

PROCESSING_CORE = """\
# DP³ format; modules_dir is relative to this directory.
worker_processes: 1
modules_dir: "../modules"
enabled_modules:
  - labeler
"""

ENTITY = """\
entity:
  id: ip
  name: IP address
  snapshot: true
attribs:
  hostname:
    name: Hostname
    type: plain
    data_type: string
  label:
    name: Label
    description: Derived by the labeler module from the hostname
    type: plain
    data_type: string
"""

MODULE_CONFIG = """\
# Hostname suffix -> label (the longest matching suffix wins).
labels:
  .example.com: internal
  .example.net: partner
"""

MODULE = '''\
"""labeler: labels an IP address from its hostname's suffix (settings in modules/labeler.yml)."""

from typing import Any

from streamcore import BaseModule, CallbackRegistrar, DataPoint, DataPointTask, PlatformConfig


class Labeler(BaseModule):
    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        super().__init__(platform_config, module_config, registrar)
        registrar.register_on_new_attr_hook(self.on_hostname, "ip", "hostname")

    def load_config(self, config: PlatformConfig, module_config: dict[str, Any]) -> None:
        labels = module_config.get("labels") or {}
        self.labels = sorted(labels.items(), key=lambda item: -len(item[0]))

    def on_hostname(self, eid: Any, dp: DataPoint) -> list[DataPointTask]:
        for suffix, label in self.labels:
            if str(dp.v).endswith(suffix):
                point = DataPoint("ip", eid, "label", label, src="labeler")
                return [DataPointTask("ip", eid, [point])]
        return []
'''

MODULE_TEST = '''\
"""The labeler module's hooks, run in memory as a worker runs them (no servers needed)."""

from pathlib import Path

from streamcore import DataPoint, DataPointTask
from streamcore.testing import ModuleHarness

CONFIG = Path(__file__).resolve().parents[1] / "config"


def send_hostname(hostname: str):
    harness = ModuleHarness.for_config_dir(CONFIG)
    harness.load("labeler")
    point = DataPoint("ip", "192.0.2.1", "hostname", hostname)
    return harness.send(DataPointTask("ip", "192.0.2.1", [point]))


def test_known_suffix_gets_its_label():
    run = send_hostname("db.example.com")
    assert run.datapoint(attr="label").v == "internal"


def test_unknown_suffix_gets_no_label():
    send_hostname("www.example.org").assert_no_datapoints(attr="label")
'''

README = """\
# {app}

A streamcore application: an entity model (`config/db_entities/`), one module
(`modules/labeler.py`, configured in `config/modules/labeler.yml`) and its tests.

Check the configuration (every file, and the module loaded in a dry run):

```bash
streamcore check-config config/
```

Run the module's tests (in memory, no servers):

```bash
python -m pytest tests
```

Create the topics and tables, then run a worker (Kafka and Cassandra running, e.g.
`streamcore dev up`):

```bash
streamcore setup config/ --app-name {app}
streamcore worker config/ --app-name {app}
```

Deploy with the chart in streamcore's `helm/streamcore` (`values.yaml` here carries the
configuration and the module):

```bash
helm install {app} path/to/streamcore/helm/streamcore -f values.yaml
```
"""

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


@click.command("new")
@click.argument("app_dir", type=click.Path(file_okay=False))
def new(app_dir: str) -> None:
    """Create a new application in APP_DIR (its name is the directory's name).

    The application passes ``streamcore check-config`` and its own tests as generated; its
    README says how to run them.
    """
    target = Path(app_dir)
    app = target.resolve().name.lower().replace("_", "-")
    if not _NAME.match(app):
        click.echo(f"error: {app!r}: use lower-case letters, digits and '-'", err=True)
        sys.exit(2)
    if target.exists() and any(target.iterdir()):
        click.echo(f"error: {target} exists and is not empty", err=True)
        sys.exit(1)
    files = application_files(app)
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    click.echo(f"Created {app} in {target}: {len(files)} files; see {target / 'README.md'}")


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (the files) as literal blocks, readable in ``values.yaml``."""


def _str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_BlockDumper.add_representer(str, _str)


def application_files(app: str) -> dict[str, str]:
    """Path (relative to the application directory) -> content."""
    config = {
        "processing_core.yml": PROCESSING_CORE,
        "db_entities/ip.yml": ENTITY,
        "modules/labeler.yml": MODULE_CONFIG,
    }
    values = {
        "appName": app,
        "config": {"source": "configMap", "files": config},
        "modules": {"source": "configMap", "files": {"labeler.py": MODULE}},
    }
    header = "# Helm values for streamcore's chart: this application's config and module.\n"
    return {
        **{f"config/{name}": text for name, text in config.items()},
        "modules/labeler.py": MODULE,
        "tests/test_labeler.py": MODULE_TEST,
        "values.yaml": header
        + yaml.dump(values, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True),
        "README.md": README.format(app=app),
    }
