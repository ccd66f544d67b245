"""Prometheus' ``promtool`` (and server) for the rule tests: Debian's build, unpacked into the project's cache.

``apt-get download`` fetches the package without installing it (an install would start a daemon on 0.0.0.0:9090);
``dpkg-deb -x`` unpacks it under ``~/.cache/lis``, once per machine, like Kafka's jars. Debian's is Prometheus 2.42:
a 3.x build from the Go module proxy takes about 15 minutes on these machines (docs/OBSERVABILITY.md).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from app.infra.ports import cache_dir, cached_install, free_port, wait_for_port

PACKAGE = "prometheus=2.42.0+ds-5+deb12u1"
ALERTMANAGER_PACKAGE = "prometheus-alertmanager=0.25.0-1+b4"


def prometheus_bin(name: str = "promtool") -> Path:
    """The path of ``promtool`` or ``prometheus``, fetching the package the first time."""
    return cached_install(cache_dir() / "prometheus-2.42.0", _unpack_debian_package) / "usr" / "bin" / name


def alertmanager_bin(name: str = "amtool") -> Path:
    """The path of ``amtool`` or ``prometheus-alertmanager`` (Debian's 0.25), fetching the package the first time."""
    return cached_install(cache_dir() / "alertmanager-0.25.0",
                          lambda root: _unpack_debian_package(root, ALERTMANAGER_PACKAGE)) / "usr" / "bin" / name


def _unpack_debian_package(root: Path, package: str = PACKAGE) -> None:
    with tempfile.TemporaryDirectory() as work:
        if subprocess.run(["apt-get", "download", package], cwd=work, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)  # a fresh machine
            subprocess.run(["apt-get", "download", package], cwd=work, check=True, capture_output=True)
        [deb] = Path(work).glob(f"{package.split('=')[0]}_*.deb")
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)


@dataclass
class PrometheusServer:
    """A Prometheus on 127.0.0.1 scraping ``targets`` every ``interval_s`` and evaluating ``rules``; its HTTP API at
    ``url`` (the web UI's assets are not needed)."""

    url: str
    process: subprocess.Popen[bytes]
    root: Path

    @classmethod
    def start(cls, root: Path, targets: list[str], rules: Path, *, interval_s: float = 2.0) -> PrometheusServer:
        root.mkdir(parents=True, exist_ok=True)
        every = f"{round(interval_s * 1000)}ms"
        config = {"global": {"scrape_interval": every, "evaluation_interval": every},
                  "rule_files": [str(rules)],
                  "scrape_configs": [{"job_name": "lis", "static_configs": [{"targets": targets}]}]}
        (root / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
        port = free_port()
        log = open(root / "prometheus.log", "ab")  # noqa: SIM115 - owned by the child process
        process = subprocess.Popen([str(prometheus_bin("prometheus")), f"--config.file={root / 'prometheus.yml'}",
                                    f"--storage.tsdb.path={root / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for_port(port, 60, what="Prometheus", alive=lambda: process.poll() is None)
        except TimeoutError as err:
            process.kill()
            raise TimeoutError(f"{err}: {(root / 'prometheus.log').read_text()[-1500:]}") from None
        return cls(url=f"http://127.0.0.1:{port}", process=process, root=root)

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts Prometheus holds right now (pending or firing)."""
        answer = httpx.get(f"{self.url}/api/v1/alerts", timeout=10).json()
        alerts: list[dict[str, Any]] = answer["data"]["alerts"]
        return alerts

    def query(self, expr: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10).json()
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


if __name__ == "__main__":
    print(prometheus_bin())
