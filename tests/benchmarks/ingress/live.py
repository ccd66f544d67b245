"""A running ingress for integration tests and the benchmark: a tenant with its directory locks and sealed webhook
secrets in PostgreSQL, ``lis ingress serve`` as a real subprocess, and helpers to sign, send and read back webhooks."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from aiokafka import AIOKafkaConsumer
from pydantic import SecretStr

from adapters.postgres.directory import save_property_directory, save_tenant
from adapters.postgres.pool import create_pool
from adapters.postgres.vendor_accounts import save_vendor_account
from adapters.postgres.webhook_endpoints import save_webhook_endpoint
from app.devstack.stack import Stack
from app.domain.directory import DirectoryLock, PropertyDirectory
from app.domain.stay_times import PropertyTimes
from app.infra.ports import free_port, wait_for_port
from app.security.webhook_signature import EndpointSecrets, SigningSecret, decode_secret, sign

REGION = "eu-west"
LOCK = 61001  # the TTLock lock of the TTLock tests
FORM = {"content-type": "application/x-www-form-urlencoded"}


def new_secret() -> str:
    """A fresh Standard Webhooks secret."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def salto_event(access_point: str, kind: str = "accessPoint.offline", **fields: Any) -> bytes:
    """A Salto event callback body for ``access_point``."""
    return json.dumps({"id": uuid.uuid4().hex, "type": kind, "occurredAt": datetime.now(UTC).isoformat(),
                       "accessPointId": access_point, **fields}).encode()


def signed_headers(body: bytes, *keys: str, webhook_id: str | None = None,
                   timestamp: int | None = None) -> dict[str, str]:
    """Standard Webhooks headers for ``body``, one signature per secret in ``keys``."""
    msg_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    stamp = int(time.time()) if timestamp is None else timestamp
    signature = " ".join(sign(decode_secret(key), msg_id, stamp, body) for key in keys)
    return {"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": signature,
            "content-type": "application/json"}


async def lock_record(sandbox: httpx.AsyncClient, record_type: int = 4, **fields: Any) -> dict[str, Any]:
    """A record the lock 'uploaded' to the TTLock sandbox, as ``/v3/lockRecord/list`` will show it."""
    answer = await sandbox.post(f"/sandbox/locks/{LOCK}/records", json={"recordType": record_type, **fields})
    answer.raise_for_status()
    record: dict[str, Any] = answer.json()
    return record


def callback(*records: dict[str, Any]) -> bytes:
    """The form TTLock POSTs to a callback URL for these records."""
    wire = [{k: r[k] for k in ("recordType", "success", "username", "keyboardPwd", "lockDate", "serverDate",
                               "electricQuantity")} for r in records]
    return urlencode({"notifyType": "1", "lockId": str(LOCK), "lockMac": "00:00:00:00:EE:59", "admin": "hotel_admin",
                      "records": json.dumps(wire)}).encode()


@dataclass
class LiveIngress:
    """One tenant's webhook endpoints on a running ``lis ingress serve``; unique topics and tenant per instance."""

    stack: Stack
    salto_locks: tuple[str, ...] = ("AP-1", "AP-2")
    ttlock_locks: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)  # LIS_INGRESS_* overrides, KAFKA_BOOTSTRAP_SERVERS...
    prefix: str = field(default_factory=lambda: f"i{uuid.uuid4().hex[:8]}.")
    salto_secret: str = field(default_factory=new_secret)
    path_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    url: str = ""
    process: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def tenant(self) -> str:
        return self.prefix.rstrip(".")

    @property
    def log_name(self) -> str:
        return f"ingress-{self.tenant}"

    def salto_url(self, tenant: str | None = None) -> str:
        return f"{self.url}/webhooks/salto/{tenant or self.tenant}"

    def ttlock_url(self, path_secret: str | None = None) -> str:
        return f"{self.url}/webhooks/ttlock/{self.tenant}/{path_secret or self.path_secret}"

    def lock_key(self, lock_id: str) -> str:
        return f"{self.tenant}/{REGION}/{lock_id}"

    async def start(self, *, ttlock_account: dict[str, Any] | None = None) -> LiveIngress:
        """Provision the tenant (directory, secrets, TTLock account) and start the ingress process."""
        await self.provision(ttlock_account)
        self.start_process()
        return self

    async def provision(self, ttlock_account: dict[str, Any] | None = None, tenant: str | None = None) -> None:
        """Write the tenant, its locks (door-<vendor id>) and sealed secrets as the application role."""
        tenant = tenant or self.tenant
        locks = [DirectoryLock(lock_id=f"door-{v}", vendor="salto", vendor_lock_id=v, room=v)
                 for v in self.salto_locks]
        locks += [DirectoryLock(lock_id=f"door-{v}", vendor="ttlock", vendor_lock_id=v, gateway_id="1", room=v)
                  for v in self.ttlock_locks]
        pool = await create_pool(self.stack.database_url, max_size=1)
        try:
            await save_tenant(pool, tenant, REGION, tenant)
            await save_property_directory(pool, PropertyDirectory(tenant=tenant, region=REGION, property="p1",
                                                                   locks=tuple(locks),
                                                                   times=PropertyTimes(time_zone="Europe/Berlin")))
            await save_webhook_endpoint(pool, self.stack.keys, tenant, "salto", EndpointSecrets(
                signing=(SigningSecret(secret=SecretStr(self.salto_secret)),)))
            await save_webhook_endpoint(pool, self.stack.keys, tenant, "ttlock",
                                        EndpointSecrets(path_secret=SecretStr(self.path_secret)))
            if ttlock_account is not None:
                await save_vendor_account(pool, self.stack.keys, tenant, "p1", "ttlock", ttlock_account)
        finally:
            await pool.close()

    def start_process(self) -> None:
        port = free_port()
        # No lookup cache by default: a test that rotates a secret sees the change at once.
        env = self.stack.env(**{"LIS_TOPIC_PREFIX": self.prefix, "LIS_INGRESS_CACHE_TTL_S": "0", **self.env})
        self.process = self.stack.spawn(["ingress", "serve", "--port", str(port)], log_name=self.log_name, env=env)
        wait_for_port(port, 60, what="webhook ingress")
        self.url = f"http://127.0.0.1:{port}"

    def start_worker(self) -> int:
        """A Faust worker on this instance's topics (every agent of ``agents/``); returns its web port."""
        web_port = free_port()
        env = self.stack.env(LIS_TOPIC_PREFIX=self.prefix, LIS_APP_ID=f"lis-{self.tenant}",
                             LIS_WEB_PORT=str(web_port), LIS_SESSION_TIMEOUT_S="10",
                             LIS_DATA_DIR=str(self.stack.root / self.tenant), **self.env)
        self.workers.append(self.stack.spawn(["worker", "--loglevel", "warning"], log_name=f"worker-{self.tenant}",
                                             env=env))
        return web_port

    def stop(self) -> None:
        for process in (self.process, *self.workers):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=20)

    def log_text(self) -> str:
        return (self.stack.root / f"{self.log_name}.log").read_text(errors="replace")

    async def send_salto(self, http: httpx.AsyncClient, body: bytes, *keys: str, **header_args: Any) -> httpx.Response:
        """POST a Salto event signed with ``keys`` (default: the tenant's secret)."""
        headers = signed_headers(body, *(keys or (self.salto_secret,)), **header_args)
        return await http.post(self.salto_url(), content=body, headers=headers)

    async def metric(self, http: httpx.AsyncClient, status: int, reason: str, vendor: str = "salto") -> float:
        """The current value of ``lis_webhook_responses_total`` for one vendor, status and reason."""
        text = (await http.get(f"{self.url}/metrics")).text
        wanted = f'lis_webhook_responses_total{{reason="{reason}",status="{status}",vendor="{vendor}"}}'
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(wanted))

    async def produced(self, *, until: Any, timeout_s: float = 30,
                       bootstrap: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        """Every (key, webhook) on this instance's ``vendor.webhooks`` from the start, read until ``until(records)``."""
        consumer = AIOKafkaConsumer(f"{self.prefix}vendor.webhooks", group_id=None, auto_offset_reset="earliest",
                                    bootstrap_servers=bootstrap or self.stack.kafka_bootstrap)
        await consumer.start()
        records: list[tuple[str, dict[str, Any]]] = []
        deadline = time.monotonic() + timeout_s
        try:
            while not until(records) and time.monotonic() < deadline:
                for batch in (await consumer.getmany(timeout_ms=300)).values():
                    records += [(r.key.decode(), json.loads(r.value)) for r in batch]
        finally:
            await consumer.stop()
        return records
