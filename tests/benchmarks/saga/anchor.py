"""The saga benchmark's anchor: the raw loop a key issue cannot beat on this machine — consume a PMS confirmation
with aiokafka, make the one TTLock call that puts a passcode on the room's lock, produce the answer with acks=all —
one record after the other, with none of the service's state, audit or retries."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from adapters.ttlock.dev_sandbox import provision
from app.domain.directory import DirectoryLock


@dataclass(frozen=True)
class AnchorAccount:
    """A TTLock sandbox account of the anchor's own and its locks by room number."""

    sandbox_url: str
    config: dict[str, str]
    lock_by_room: dict[str, int]

    @classmethod
    async def provision(cls, sandbox_url: str, rooms: range) -> AnchorAccount:
        base = 900_000_000 + secrets.randbelow(10**6) * 10_000
        locks = [DirectoryLock(lock_id=f"anchor-{n}", vendor="ttlock", vendor_lock_id=str(base + n),
                               gateway_id=str(base + n % 4), room=str(100 + n)) for n in rooms]
        config = await provision(sandbox_url, locks, username="anchor_admin")  # not the worker's
        return cls(sandbox_url, config, {lock.room or "": int(lock.vendor_lock_id) for lock in locks})


class RawLoop:
    """Consumes ``source`` from its start and answers each confirmation on ``sink`` until stopped."""

    def __init__(self, bootstrap: str, source: str, sink: str, account: AnchorAccount) -> None:
        self._bootstrap, self._source, self._sink, self._account = bootstrap, source, sink, account
        self.answered = 0
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(self._source, bootstrap_servers=self._bootstrap, auto_offset_reset="earliest",
                                    group_id=None)
        producer = AIOKafkaProducer(bootstrap_servers=self._bootstrap, acks="all", linger_ms=0)
        async with httpx.AsyncClient(base_url=self._account.sandbox_url, timeout=5.0) as http:
            token = await self._token(http)
            await consumer.start()
            await producer.start()
            try:
                while not self._stopping.is_set():
                    for batch in (await consumer.getmany(timeout_ms=50)).values():
                        for record in batch:
                            answer = await self._issue(http, token, json.loads(record.value))
                            await producer.send_and_wait(self._sink, key=record.key, value=answer)
                            self.answered += 1
            finally:
                await consumer.stop()
                await producer.stop()

    def stop(self) -> None:
        self._stopping.set()

    async def _token(self, http: httpx.AsyncClient) -> str:
        config = self._account.config
        password = hashlib.md5(config["password"].encode(), usedforsecurity=False).hexdigest()
        form = {"clientId": config["client_id"], "clientSecret": config["client_secret"],
                "username": config["username"], "password": password}
        answer = (await http.post("/oauth2/token", data=form)).raise_for_status().json()
        return str(answer["access_token"])

    async def _issue(self, http: httpx.AsyncClient, token: str, confirmation: dict[str, object]) -> bytes:
        rooms = confirmation["rooms"]
        assert isinstance(rooms, list)
        arrival = datetime.fromisoformat(str(confirmation["arrival"]))
        departure = datetime.fromisoformat(str(confirmation["departure"]))
        form = {"clientId": self._account.config["client_id"], "accessToken": token, "date": int(time.time() * 1000),
                "lockId": self._account.lock_by_room[rooms[0]], "keyboardPwd": f"{secrets.randbelow(10**6):06d}",
                "keyboardPwdName": str(confirmation["reservation"]), "keyboardPwdType": 3, "addType": 2,
                "startDate": int((arrival - timedelta(hours=1)).timestamp() * 1000),
                "endDate": int(departure.timestamp() * 1000)}
        answer = (await http.post("/v3/keyboardPwd/add", data={k: str(v) for k, v in form.items()})).json()
        if "keyboardPwdId" not in answer:
            raise RuntimeError(f"the sandbox refused the anchor's passcode: {answer}")
        return json.dumps({"type": "key.issued", "lock_id": f"door-{int(rooms[0]) - 100}",
                           "credential_ref": answer["keyboardPwdId"]}).encode()
