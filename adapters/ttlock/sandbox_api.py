"""The TTLock cloud API v3 handlers of the sandbox: form parameters in, JSON-ready answers out, refusals raised.

No HTTP here: ``sandbox`` routes requests to these handlers, injects faults and serialises the answers. Every change
to what opens a lock goes through :meth:`SandboxAPI._add`, :meth:`SandboxAPI._change` or :meth:`SandboxAPI._remove`,
which journal it: a credential is on the door when it reached the lock (``on_lock``) or the lock kept it as an orphan,
so a cloud-only add, change or delete (type 1) changes nothing there and writes nothing.
"""

from __future__ import annotations

import asyncio
import math
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any, Literal

from adapters.ttlock.sandbox_state import Credential, GatewaySeed, Lock, SandboxState, Token, TTLockError
from adapters.ttlock.sandbox_wire import check_pin, int_param, listed, page

MAX_PASSCODES = 250
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
TOKEN_LIFETIME_S = 7_776_000
DATE_TOLERANCE_MS = 5 * 60 * 1000
_VIA_GATEWAY = 2

# An endpoint: the call's parameters and the caller's uid in; the answer out (None: a bare success).
Op = Callable[[Mapping[str, str], int], Awaitable[dict[str, Any] | None]]


class SandboxAPI(SandboxState):
    """The sandbox's TTLock endpoints, answering from and acting on its in-memory state."""

    def _oauth(self, p: Mapping[str, str]) -> dict[str, Any]:
        client_id = p.get("clientId", "")
        if client_id not in self._apps:
            raise TTLockError(10000, "client_id does not exist")
        if self._apps[client_id] != p.get("clientSecret"):
            raise TTLockError(10001, "invalid client, wrong client_id or client_secret")
        if p.get("grant_type") == "refresh_token":
            old = self._refresh.pop(p.get("refresh_token", ""), None)
            if old is None or old.client_id != client_id:
                raise TTLockError(10011, "invalid refresh_token")
            uid = old.uid
        else:
            password = p.get("password", "")
            if not re.fullmatch(r"[0-9a-f]{32}", password):
                raise TTLockError(30005, "password must be md5 encrypted")
            account = self._accounts.get(p.get("username", ""))
            if account is None or account[0] != client_id or account[2] != password:
                raise TTLockError(10007, "invalid account or invalid password")
            uid = account[1]
        token = Token(uid, client_id, self._now_ms() + TOKEN_LIFETIME_S * 1000)
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        self._tokens[access] = self._refresh[refresh] = token
        return {"access_token": access, "uid": uid, "refresh_token": refresh, "expires_in": TOKEN_LIFETIME_S}

    def _authenticate(self, p: Mapping[str, str]) -> int:
        if p.get("clientId", "") not in self._apps:
            raise TTLockError(10000, "client_id does not exist")
        if abs(int_param(p, "date") - self._now_ms()) > DATE_TOLERANCE_MS:
            raise TTLockError(80000, "date must be current time, in 5 minutes")
        token = self._tokens.get(p.get("accessToken", ""))
        if token is None or token.client_id != p["clientId"]:
            raise TTLockError(10003, "token does not exist")
        if token.revoked or token.expires_ms <= self._now_ms():
            raise TTLockError(10004, "token is invalid or revoked")
        return token.uid

    def _lock(self, p: Mapping[str, str], uid: int) -> Lock:
        lock = self._locks.get(int_param(p, "lockId"))
        if lock is None:
            raise TTLockError(-1003, "Lock does not exist")
        if lock.owner_uid is not None and lock.owner_uid != uid:
            raise TTLockError(20002, "not lock admin")
        return lock

    async def _deliver(self, lock: Lock, via: int) -> bool:
        """Send a command to the lock through its gateway (via=2); False when it stays in the cloud (via=1)."""
        if via != _VIA_GATEWAY:
            return False
        gateway = self._gateways.get(lock.seed.gateway_id) if lock.seed.gateway_id is not None else None
        if gateway is None or not lock.seed.online:
            raise TTLockError(-2012, "no gateway available near the lock")
        if not gateway.is_online:
            raise TTLockError(-3002, "gateway offline")
        if gateway.gateway_id in self._busy:
            self.busy_rejections += 1
            raise TTLockError(-3003, "gateway busy")
        self._busy.add(gateway.gateway_id)
        try:
            await asyncio.sleep(self.gateway_latency_s)
        finally:
            self._busy.discard(gateway.gateway_id)
        return True

    def _window(self, p: Mapping[str, str], *, required: bool = True) -> tuple[int, int]:
        default = None if required else 0
        start, end = int_param(p, "startDate", default), int_param(p, "endDate", default)
        if (required or end) and end <= start:
            raise TTLockError(-3, "Invalid Parameter: endDate must be after startDate")
        return start, end

    async def _passcode_add(self, p: Mapping[str, str], uid: int) -> dict[str, Any]:
        lock, pwd = self._lock(p, uid), check_pin(p.get("keyboardPwd", ""))
        start, end = self._window(p, required=int_param(p, "keyboardPwdType", 3) != 2)
        passcodes = lock.of_kind("passcode")
        if any(c.secret == pwd for c in passcodes):
            raise TTLockError(-3007, "the same passcode already exists")
        if len(passcodes) >= MAX_PASSCODES:
            raise TTLockError(-3009, "no space left for custom passcodes")
        on_lock = await self._deliver(lock, int_param(p, "addType", 1))
        found = Credential("passcode", next(self._ids), pwd, p.get("keyboardPwdName", ""), start, end, on_lock)
        self._add(lock, found)
        return {"keyboardPwdId": found.vendor_id}

    async def _passcode_get(self, p: Mapping[str, str], uid: int) -> dict[str, Any]:
        """``/v3/keyboardPwd/get``: an algorithmic (offline) period passcode. The cloud derives the digits from the
        lock's own secret and the window; the lock checks them itself, so no gateway is involved and the code is on
        the door at once. Whole hours only, not starting before the current day, at least an hour long."""
        lock = self._lock(p, uid)
        if int_param(p, "keyboardPwdType") != 3:
            raise TTLockError(-3, "Invalid Parameter: the sandbox simulates period codes (keyboardPwdType 3) only")
        start, end = self._window(p)
        if start % HOUR_MS or end % HOUR_MS:
            raise TTLockError(-3, "Invalid Parameter: startDate and endDate must be whole hours")
        if start < self._now_ms() // DAY_MS * DAY_MS:
            raise TTLockError(-3, "Invalid Parameter: startDate is earlier than the current day")
        if end - start < HOUR_MS:
            raise TTLockError(-3, "Invalid Parameter: the period must be at least one hour")
        if len(lock.of_kind("passcode")) >= MAX_PASSCODES:
            raise TTLockError(-3009, "no space left for passcodes")
        code = self.offline_code(lock, start, end, p.get("keyboardPwdName", ""))
        found = Credential("passcode", next(self._ids), code, p.get("keyboardPwdName", ""), start, end, on_lock=True,
                           algorithmic=True)
        self._add(lock, found)
        return {"keyboardPwd": code, "keyboardPwdId": found.vendor_id}

    async def _passcode_delete(self, p: Mapping[str, str], uid: int) -> None:
        lock = self._lock(p, uid)
        self._remove(
            lock,
            lock.find("passcode", int_param(p, "keyboardPwdId"), (-2009, "passcode does not exist")),
            await self._deliver(lock, int_param(p, "deleteType", 1)),
        )

    async def _passcode_change(self, p: Mapping[str, str], uid: int) -> None:
        lock = self._lock(p, uid)
        found = lock.find("passcode", int_param(p, "keyboardPwdId"), (-2009, "passcode does not exist"))
        new_pwd = check_pin(p["newKeyboardPwd"]) if p.get("newKeyboardPwd") else found.secret
        if any(c.secret == new_pwd and c is not found for c in lock.of_kind("passcode")):
            raise TTLockError(-3007, "the same passcode already exists")
        start, end = self._window(p) if "startDate" in p else (found.start_ms, found.end_ms)
        delivered = await self._deliver(lock, int_param(p, "changeType", 1))
        self._change(lock, found, delivered, secret=new_pwd, start_ms=start, end_ms=end)

    async def _ekey_send(self, p: Mapping[str, str], uid: int) -> dict[str, Any]:
        lock, (start, end) = self._lock(p, uid), self._window(p)
        receiver = p.get("receiverUsername", "")
        if not receiver:
            raise TTLockError(-3, "Invalid Parameter: receiverUsername")
        # eKeys live in the cloud and the guest's phone: no gateway command is involved.
        found = Credential("ekey", next(self._ids), receiver, p.get("keyName", ""), start, end)
        self._add(lock, found)
        return {"keyId": found.vendor_id}

    def _ekey(self, p: Mapping[str, str], uid: int) -> tuple[Lock, Credential]:
        key_id = int_param(p, "keyId")
        for lock in self._locks.values():
            if key_id in lock.credentials and lock.credentials[key_id].kind == "ekey":
                return self._lock({"lockId": str(lock.seed.lock_id)}, uid), lock.credentials[key_id]
        raise TTLockError(-1008, "eKey does not exist")

    async def _ekey_delete(self, p: Mapping[str, str], uid: int) -> None:
        lock, found = self._ekey(p, uid)
        self._remove(lock, found, delivered=True)  # the cloud and the guest's phone drop it together

    async def _ekey_change(self, p: Mapping[str, str], uid: int) -> None:
        (lock, found), (start, end) = self._ekey(p, uid), self._window(p)
        self._change(lock, found, delivered=True, secret=found.secret, start_ms=start, end_ms=end)

    def _card_lock(self, p: Mapping[str, str], uid: int) -> Lock:
        lock = self._lock(p, uid)
        if not lock.seed.cards:
            raise TTLockError(-4043, "the lock does not support this operation")
        return lock

    async def _card_add(self, p: Mapping[str, str], uid: int) -> dict[str, Any]:
        lock, (start, end) = self._card_lock(p, uid), self._window(p)
        number = p.get("cardNumber", "")
        if not number.isdecimal():
            raise TTLockError(-3, "Invalid Parameter: cardNumber")
        on_lock = await self._deliver(lock, int_param(p, "addType", 1))
        found = Credential("card", next(self._ids), number, p.get("cardName", ""), start, end, on_lock)
        self._add(lock, found)
        return {"cardId": found.vendor_id}

    async def _card_delete(self, p: Mapping[str, str], uid: int) -> None:
        lock = self._card_lock(p, uid)
        self._remove(
            lock,
            lock.find("card", int_param(p, "cardId"), (-1021, "IC card does not exist")),
            await self._deliver(lock, int_param(p, "deleteType", 1)),
        )

    async def _card_change(self, p: Mapping[str, str], uid: int) -> None:
        lock = self._card_lock(p, uid)
        found = lock.find("card", int_param(p, "cardId"), (-1021, "IC card does not exist"))
        start, end = self._window(p)
        delivered = await self._deliver(lock, int_param(p, "changeType", 1))
        self._change(lock, found, delivered, secret=found.secret, start_ms=start, end_ms=end)

    def _add(self, lock: Lock, found: Credential) -> None:
        with self.journal.changes(lock.door):
            lock.credentials[found.vendor_id] = found

    def _change(
        self, lock: Lock, found: Credential, delivered: bool, *, secret: str, start_ms: int, end_ms: int
    ) -> None:
        with self.journal.changes(lock.door):
            if delivered:
                lock.drop_orphan(found.vendor_id)
            elif found.on_lock:  # changed in the cloud only: the lock keeps the version it has
                lock.orphans.append(replace(found))
            found.on_lock = delivered
            found.secret, found.start_ms, found.end_ms = secret, start_ms, end_ms

    def _remove(self, lock: Lock, found: Credential, delivered: bool) -> None:
        with self.journal.changes(lock.door):
            del lock.credentials[found.vendor_id]
            if delivered:
                lock.drop_orphan(found.vendor_id)
            elif found.on_lock:  # deleted in the cloud only: the lock still opens for it
                lock.orphans.append(found)

    def _list_of(self, kind: Literal["passcode", "ekey", "card"]) -> Op:
        async def list_kind(p: Mapping[str, str], uid: int) -> dict[str, Any]:
            lock = self._lock(p, uid) if kind != "card" else self._card_lock(p, uid)
            return page([listed(c, lock.seed.lock_id) for c in lock.of_kind(kind)], p)

        return list_kind

    async def _gateway_list(self, p: Mapping[str, str], uid: int) -> dict[str, Any]:
        mine = {lock.seed.gateway_id for lock in self._locks.values() if lock.owner_uid in (None, uid)}
        return page([self._gateway_view(g) for g in self._gateways.values() if g.gateway_id in mine], p)

    async def _gateway_list_by_lock(self, p: Mapping[str, str], uid: int) -> dict[str, Any]:
        lock = self._lock(p, uid)
        # A lock out of reach is not listed by its gateway: that is how TTLock shows it disconnected.
        gateway = self._gateways.get(lock.seed.gateway_id or 0) if lock.seed.online else None
        return {"list": [self._gateway_view(gateway)] if gateway else []}

    def _gateway_view(self, gateway: GatewaySeed) -> dict[str, Any]:
        locks = sum(lock.seed.gateway_id == gateway.gateway_id for lock in self._locks.values())
        return {
            "gatewayId": gateway.gateway_id,
            "gatewayName": f"G{gateway.gateway_id}",
            "gatewayVersion": 2,
            "isOnline": int(gateway.is_online),
            "lockNum": locks,
        }

    async def _lock_detail(self, p: Mapping[str, str], uid: int) -> dict[str, Any]:
        seed = self._lock(p, uid).seed
        return {
            "lockId": seed.lock_id,
            "lockName": f"S{seed.lock_id}",
            "lockAlias": f"Lock {seed.lock_id}",
            "lockMac": seed.lock_mac,
            "electricQuantity": seed.battery,
            "hasGateway": int(seed.gateway_id is not None),
        }

    async def _record_list(self, p: Mapping[str, str], uid: int) -> dict[str, Any]:
        lock = self._lock(p, uid)
        start, end = int_param(p, "startDate", 0), int_param(p, "endDate", 0) or math.inf
        return page([r for r in lock.records if start <= r["lockDate"] <= end], p)

