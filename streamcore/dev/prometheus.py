"""A real Prometheus server scraping streamcore processes on this machine.

The binary is the one ``scripts/install-prometheus.sh`` builds into ``.tools/bin`` (else a
``prometheus`` on PATH). We write its configuration (static targets, a scrape interval,
rule files), start it detached as a ``ManagedProcess`` with its data under ``directory``,
and read it through its HTTP API. ``streamcore dev prometheus`` and the Prometheus tests
drive this module.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from streamcore.dev.process import ManagedProcess
from streamcore.errors import DevServerError

ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = ROOT / ".tools" / "bin"
ALERT_RULES = ROOT / "helm" / "streamcore" / "files" / "alerts.yml"


def find_tool(name: str) -> Path:
    """``.tools/bin/<name>`` of this checkout, else ``name`` on PATH."""
    local = TOOLS_BIN / name
    if local.is_file():
        return local
    found = shutil.which(name)
    if found is None:
        raise DevServerError(f"{name} not found: run scripts/install-prometheus.sh")
    return Path(found)


class DevPrometheus:
    """One Prometheus on ``127.0.0.1:port`` scraping ``targets``: (job, "host:port") pairs."""

    def __init__(  # noqa: PLR0913 (a server's knobs, all keywords past the first three)
        self,
        directory: Path,
        port: int,
        targets: Sequence[tuple[str, str]],
        *,
        scrape_interval: str = "5s",
        rule_files: Sequence[Path] = (),
        binary: Path | None = None,
    ) -> None:
        self.directory = directory.resolve()
        self.port = port
        self.targets = list(targets)
        self.scrape_interval = scrape_interval
        self.rule_files = [path.resolve() for path in rule_files]
        self.binary = binary
        self.config_file = self.directory / "prometheus.yml"
        data = self.directory / "data"
        # Prometheus refuses a -D argument: its data path names the directory instead.
        self._data_flag = f"--storage.tsdb.path={data}"
        self.process = ManagedProcess("prometheus", self.directory, marker=self._data_flag)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> dict[str, Any]:
        """The configuration file's content (JSON, which is YAML too)."""
        jobs: dict[str, list[str]] = {}
        for job, address in self.targets:
            jobs.setdefault(job, []).append(address)
        return {
            "global": {
                "scrape_interval": self.scrape_interval,
                "evaluation_interval": self.scrape_interval,
            },
            "rule_files": [str(path) for path in self.rule_files],
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": addresses}]}
                for job, addresses in jobs.items()
            ],
        }

    def start(self, timeout: float = 60.0) -> None:
        """Write the configuration, start the server and wait until it is ready."""
        if self.process.is_running():
            raise DevServerError(f"a Prometheus already runs from {self.directory}")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(json.dumps(self.config(), indent=2))
        binary = self.binary or find_tool("prometheus")
        self.process.start(
            [
                str(binary),
                f"--config.file={self.config_file}",
                self._data_flag,
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=1d",
            ]
        )
        deadline = time.monotonic() + timeout
        while not self._ready():
            if self.process.exited() or time.monotonic() > deadline:
                self.process.stop()
                raise DevServerError(f"Prometheus did not start:\n{self.process.tail()}")
            time.sleep(0.2)

    def stop(self) -> bool:
        return self.process.stop()

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The result of an instant query now (``/api/v1/query``): vector or scalar items."""
        data = self._api("query", {"query": expr})
        result = data["result"]
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": result}]
        return list(result)

    def active_targets(self) -> list[dict[str, Any]]:
        """``/api/v1/targets``: each target's job, scrape URL and health."""
        return list(self._api("targets", {"state": "active"})["activeTargets"])

    def rules(self) -> list[dict[str, Any]]:
        """``/api/v1/rules``: every loaded rule with its health and, for alerts, its state."""
        groups = self._api("rules", {})["groups"]
        return [rule for group in groups for rule in group["rules"]]

    def _api(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        url = f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise DevServerError(f"{url}: {exc.code} {detail}") from None
        if body.get("status") != "success":
            raise DevServerError(f"{url}: {body}")
        data: dict[str, Any] = body["data"]
        return data

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False
