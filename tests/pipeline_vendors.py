"""The vendor side of a test pipeline: switch its sandboxes' locks and gateways, arm faults, type on a keypad, and read
what the sandboxes really hold and applied (their journals, judged by the history checker)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import httpx

from app.domain.directory import DirectoryLock, PropertyDirectory
from app.domain.reservation import ReservationEvent
from tests.checker import Report, check, fetch_journals


class VendorSide:
    """Mixed into :class:`tests.pipeline.Pipeline`: what the tests do to and read from the vendor sandboxes."""

    directory: PropertyDirectory | None
    sandbox_url: str
    salto_url: str
    wiegand_url: str

    async def take_offline(self, lock_ids: list[str]) -> None:
        """Put locks out of their gateway's reach in the sandbox (TTLock answers -2012 for them)."""
        assert self.directory is not None
        by_id = {lock.lock_id: lock for lock in self.directory.locks}
        async with httpx.AsyncClient(base_url=self.sandbox_url) as http:
            for lock_id in lock_ids:
                lock = by_id[lock_id]
                body = {"lockId": int(lock.vendor_lock_id), "gatewayId": int(lock.gateway_id or 0), "online": False}
                (await http.post("/sandbox/locks", json=body)).raise_for_status()

    async def set_gateway(self, lock_id: str, *, online: bool) -> None:
        """Switch the gateway of a directory lock off or on in its vendor's sandbox (TTLock answers -3002 and Salto
        503 for its locks while it is off)."""
        assert self.directory is not None
        (lock,) = [lock for lock in self.directory.locks if lock.lock_id == lock_id]
        url, gateway = ((self.salto_url, lock.gateway_id) if lock.vendor == "salto"
                        else (self.sandbox_url, int(lock.gateway_id or 0)))
        async with httpx.AsyncClient(base_url=url) as http:
            (await http.post("/sandbox/gateways", json={"gatewayId": gateway, "isOnline": online})).raise_for_status()

    async def keypad(self, lock_id: str, code: str, at: datetime) -> bool:
        """Type ``code`` on a TTLock lock's keypad at ``at``: whether the door opened."""
        assert self.directory is not None
        (lock,) = [lock for lock in self.directory.locks if lock.lock_id == lock_id]
        async with httpx.AsyncClient(base_url=self.sandbox_url) as http:
            answer = await http.post(f"/sandbox/locks/{lock.vendor_lock_id}/keypad",
                                     json={"code": code, "at": int(at.timestamp() * 1000)})
            answer.raise_for_status()
            return bool(answer.json()["opened"])

    async def inject(self, mode: str, vendor: str = "ttlock", **options: Any) -> None:
        """Arm a fault in a vendor's sandbox; ``mode="clear"`` clears every fault."""
        urls = {"ttlock": self.sandbox_url, "salto": self.salto_url, "wiegand": self.wiegand_url}
        async with httpx.AsyncClient(base_url=urls[vendor]) as http:
            if mode == "clear":
                (await http.delete("/sandbox/faults")).raise_for_status()
            else:
                (await http.post("/sandbox/faults", json={"mode": mode, **options})).raise_for_status()

    async def sandbox_credentials(self) -> dict[str, list[dict[str, Any]]]:
        """What the sandboxes really hold, per directory lock id: TTLock's credential views, and for Salto the users
        of the door that carry a key (a user whose key was cancelled opens nothing)."""
        assert self.directory is not None
        timeout, lanes = httpx.Timeout(30, pool=None), asyncio.Semaphore(16)
        # Bounded: thousands of requests queued at once on one pool cost httpcore quadratic time to assign.
        async with httpx.AsyncClient(timeout=timeout) as http:

            async def get(url: str) -> httpx.Response:
                async with lanes:
                    return await http.get(url)

            answers = await asyncio.gather(*(get(self._credentials_url(lock)) for lock in self.directory.locks))
        held = {}
        for lock, answer in zip(self.directory.locks, answers, strict=True):
            answer.raise_for_status()
            entries = answer.json()
            held[lock.lock_id] = [e for e in entries if lock.vendor == "ttlock" or _salto_key(e)]
        return held

    async def journal(self, vendor: str = "ttlock") -> list[dict[str, Any]]:
        """What one vendor's sandbox applied so far (``GET /sandbox/journal``)."""
        urls = {"ttlock": self.sandbox_url, "salto": self.salto_url, "wiegand": self.wiegand_url}
        return (await fetch_journals({vendor: urls[vendor]}))[vendor]

    async def history(self, events: Iterable[ReservationEvent]) -> Report:
        """The history checker's verdict: the sandboxes' journals against ``events`` (the PMS input)."""
        assert self.directory is not None
        urls = {"ttlock": self.sandbox_url, "salto": self.salto_url, "wiegand": self.wiegand_url}
        journals = await fetch_journals({vendor: url for vendor, url in urls.items() if url})
        return check(self.directory, events, journals)

    async def settled_history(self, events: list[ReservationEvent], *, timeout_s: float = 120) -> Report:
        """The verdict once it is clean, or the last one when ``timeout_s`` has passed."""
        deadline = time.monotonic() + timeout_s
        report = await self.history(events)
        while not report.clean and time.monotonic() < deadline:
            await asyncio.sleep(2)
            report = await self.history(events)
        return report

    def _credentials_url(self, lock: DirectoryLock) -> str:
        if lock.vendor == "salto":
            return f"{self.salto_url}/sandbox/accesspoints/{lock.vendor_lock_id}/users"
        return f"{self.sandbox_url}/sandbox/locks/{lock.vendor_lock_id}/credentials"


def _salto_key(user: dict[str, Any]) -> bool:
    return bool(user["hasPinCode"] or user["mobileKeyStatus"] == "Assigned" or user["cardSerial"])
