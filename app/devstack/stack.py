"""The one launcher of the development and test stack: PostgreSQL, Kafka, migrations, topics, sandbox, worker.

``lis dev``, the pytest fixtures and ``.ci/run`` all start services through here. ``DATABASE_URL`` (with
``LIS_ADMIN_DATABASE_URL`` for migrations) and ``KAFKA_BOOTSTRAP_SERVERS`` make it use external services instead.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from adapters.postgres.migrate import migrate
from app.devstack.kafka import KafkaCluster
from app.devstack.postgres import PostgresServer
from app.domain.ops_access import OpsRole
from app.infra.ports import free_port, wait_for_port
from app.infra.topics import ensure_topics
from app.security.envelope import LocalKeyStore
from app.security.ops_dev_keys import DevTokenIssuer


@dataclass
class Stack:
    """Running infrastructure and the environment a worker needs to use it."""

    root: Path
    kafka_bootstrap: str
    database_url: str
    admin_database_url: str
    kafka: KafkaCluster | None = None
    postgres: PostgresServer | None = None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @classmethod
    async def start(cls, *, brokers: int = 1, archive_wal: bool = False) -> Stack:
        root = Path(tempfile.mkdtemp(prefix="lis-stack-"))
        postgres = kafka = None
        admin_url = os.environ.get("LIS_ADMIN_DATABASE_URL", "")
        if not os.environ.get("DATABASE_URL"):
            postgres = PostgresServer.start(root=root / "pg", archive_dir=root / "wal" if archive_wal else None)
            admin_url = postgres.admin_url
        database_url = os.environ.get("DATABASE_URL") or await migrate(admin_url, app_password=secrets.token_hex(16))
        if os.environ.get("DATABASE_URL") and admin_url:
            await migrate(admin_url, app_password=_password_of(database_url))
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
        if not bootstrap:
            kafka = KafkaCluster.start(brokers=brokers, root=root / "kafka")
            bootstrap = kafka.bootstrap_servers
        return cls(root=root, kafka_bootstrap=bootstrap, database_url=database_url, admin_database_url=admin_url,
                   kafka=kafka, postgres=postgres)

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a worker or CLI subprocess using this stack (no metrics port unless ``extra`` names one:
        workers side by side would share the default)."""
        env = dict(os.environ)
        env.update(KAFKA_BOOTSTRAP_SERVERS=self.kafka_bootstrap, DATABASE_URL=self.database_url,
                   LIS_ADMIN_DATABASE_URL=self.admin_database_url,
                   LIS_MASTER_KEY_FILE=str(self.root / "master.key"), LIS_DATA_DIR=str(self.root / "data"),
                   LIS_OPS_JWKS=str(self.ops_issuer.jwks_file), LIS_METRICS_PORT="0")
        env.update(extra)
        return env

    @functools.cached_property
    def ops_issuer(self) -> DevTokenIssuer:
        """The stack's local ops-token issuer; every worker started here verifies against its JWKS."""
        return DevTokenIssuer(self.root / "ops", issuer="lis-dev", audience="lis-ops")

    def ops_headers(self, role: OpsRole = OpsRole.PLATFORM_ADMIN, *tenants: str) -> dict[str, str]:
        """An ``Authorization`` header with a fresh token of the stack's issuer."""
        token = self.ops_issuer.issue(subject=f"test-{role}", role=role, tenants=list(tenants))
        return {"Authorization": f"Bearer {token}"}

    @property
    def keys(self) -> LocalKeyStore:
        return LocalKeyStore.from_file(self.root / "master.key")

    def spawn(self, args: list[str], *, log_name: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start ``lis <args>`` as a child process logging to ``root/<log_name>.log``."""
        log = open(self.root / f"{log_name}.log", "ab")  # noqa: SIM115 - owned by the child process
        process = subprocess.Popen([sys.executable, "-m", "app", *args], stdout=log, stderr=subprocess.STDOUT,
                                   env=env or self.env(), start_new_session=True)
        self.processes.append(process)
        return process

    def serve(self, args: list[str], *, log_name: str, what: str) -> str:
        """Run ``lis <args> --port N`` as a child on a free port; its base URL once it listens (a vendor's
        ``dev_sandbox`` starts its sandbox through this, ``adapters/dev_sandbox.py``)."""
        port = free_port()
        self.spawn([*args, "--port", str(port)], log_name=log_name)
        wait_for_port(port, 30, what=what)
        return f"http://127.0.0.1:{port}"

    async def ensure_topics(self, prefix: str = "", partitions: int = 4) -> None:
        replication = len(self.kafka.brokers) if self.kafka else 1
        await ensure_topics(self.kafka_bootstrap, prefix=prefix, partitions=partitions, replication=replication)

    def stop(self, *, keep_files: bool = False) -> None:
        """Stop every child process, Kafka and PostgreSQL, and delete their data unless ``keep_files`` (or
        ``LIS_KEEP_STACK``) asks to keep the logs and data."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        keep = keep_files or bool(os.environ.get("LIS_KEEP_STACK"))  # logs and data, to investigate a run
        if self.kafka:
            self.kafka.stop(remove=not keep)
        if self.postgres:
            self.postgres.stop(remove=not keep)
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)


def _password_of(url: str) -> str:
    return httpx.URL(url).password or ""
