"""A TTLock Open Platform sandbox: a real aiohttp server speaking the cloud API v3 wire format.

It is the honest fake of the TTLock adapter: form-encoded requests carrying ``clientId``/``accessToken``/``date``,
HTTP 200 JSON answers with TTLock's errcodes, one command at a time per gateway, at most 250 passcodes per lock, and
passcodes added with ``addType=1`` kept in the cloud only (at TTLock they never reach the lock either).
Tests in another process drive it through the JSON admin API under ``/sandbox/``; tests in the same process may call
the same methods directly, e.g. ``sandbox.faults.set("gateway_busy", count=1)``.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import math
import random
import re
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

MAX_PASSCODES = 250
TOKEN_LIFETIME_S = 7_776_000
DATE_TOLERANCE_MS = 5 * 60 * 1000
_VIA_GATEWAY = 2
_OK = {"errcode": 0, "errmsg": "none error message", "description": ""}
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})

FaultMode = Literal[
    "latency",
    "http_5xx",
    "rate_limit",
    "timeout",
    "gateway_busy",
    "gateway_offline",
    "token_expired",
    "malformed",
    "duplicate",
]
_GATEWAY_PATHS = frozenset(
    f"/v3/{op}"
    for op in (
        "keyboardPwd/add",
        "keyboardPwd/delete",
        "keyboardPwd/change",
        "identityCard/add",
        "identityCard/delete",
        "identityCard/changePeriod",
    )
)
# Faults that can only happen where TTLock would produce them; the rest may hit any API call, the token one included.
_FAULT_SCOPE: dict[str, Callable[[str], bool]] = {
    "gateway_busy": _GATEWAY_PATHS.__contains__,
    "gateway_offline": _GATEWAY_PATHS.__contains__,
    "duplicate": "/v3/keyboardPwd/add".__eq__,
    "token_expired": lambda path: path.startswith("/v3/"),
}
_FAULT_ERRCODES = {
    "rate_limit": (30006, "exceeds the restrictions of API call number"),
    "gateway_busy": (-3003, "gateway busy"),
    "gateway_offline": (-3002, "gateway offline"),
    "duplicate": (-3007, "the same passcode already exists"),
}


def _anywhere(path: str) -> bool:
    return True


class Seed(BaseModel):
    """Admin API bodies and seed-file entries: camelCase on the wire, snake_case as method keywords."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, alias_generator=to_camel)


class AccountSeed(Seed):
    client_id: str
    client_secret: str
    username: str
    password: str  # plain; the sandbox keeps only its MD5, as TTLock's login does


class LockSeed(Seed):
    lock_id: int
    gateway_id: int | None = None
    lock_mac: str | None = None
    online: bool = True  # False: the lock is out of its gateway's reach
    battery: int = 90
    owner: str | None = None  # username of the lock admin; None lets every account administer it
    cards: bool = True  # False: identityCard calls answer -4043 (not supported by this lock)


class GatewaySeed(Seed):
    gateway_id: int
    is_online: bool = True


class FaultSeed(Seed):
    mode: FaultMode
    rate: float = Field(default=1.0, ge=0.0, le=1.0)
    count: int | None = Field(default=None, ge=1)
    latency_ms: int | None = Field(default=None, ge=0)


class SandboxSeed(Seed):
    """A seed file for ``lis sandbox ttlock``."""

    random_seed: int = 0
    accounts: list[AccountSeed] = []
    gateways: list[GatewaySeed] = []
    locks: list[LockSeed] = []
    faults: list[FaultSeed] = []


class Faults:
    """Injected faults, drawn with a seeded random so a failing run can be replayed."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.fired: Counter[str] = Counter()
        self._active: dict[str, FaultSeed] = {}

    def set(
        self, mode: FaultMode, *, rate: float = 1.0, count: int | None = None, latency_ms: int | None = None
    ) -> None:
        """Make ``mode`` hit a share ``rate`` of eligible calls, ``count`` times at most (None: until cleared)."""
        self._active[mode] = FaultSeed(mode=mode, rate=rate, count=count, latency_ms=latency_ms)

    def clear(self, mode: str | None = None) -> None:
        """Stop one fault, or all of them."""
        if mode is None:
            self._active.clear()
        else:
            self._active.pop(mode, None)

    def active(self) -> list[dict[str, Any]]:
        """The faults still armed, as the admin API shows them."""
        return [fault.model_dump(by_alias=True) for fault in self._active.values()]

    def draw(self, path: str) -> FaultSeed | None:
        """The fault that hits this call, if any; consumes one of its ``count``."""
        for fault in list(self._active.values()):
            in_scope = _FAULT_SCOPE.get(fault.mode, _anywhere)(path)
            if not in_scope or self.rng.random() >= fault.rate:
                continue
            if fault.count is not None:
                fault.count -= 1
                if fault.count == 0:
                    del self._active[fault.mode]
            self.fired[fault.mode] += 1
            return fault
        return None


class TTLockError(Exception):
    """A refusal answered as ``{"errcode": code, "errmsg": msg}``."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(f"{code} {msg}")
        self.code, self.msg = code, msg


@dataclass
class Credential:
    kind: Literal["passcode", "ekey", "card"]
    vendor_id: int
    secret: str  # keyboardPwd, receiverUsername or cardNumber
    name: str
    start_ms: int
    end_ms: int
    on_lock: bool = True  # False: the cloud has it, the lock never received it (addType=1)

    def view(self, *, in_cloud: bool = True) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.vendor_id,
            "name": self.name,
            "secret": self.secret,
            "startDate": self.start_ms,
            "endDate": self.end_ms,
            "onLock": self.on_lock,
            "inCloud": in_cloud,
        }


@dataclass
class Lock:
    seed: LockSeed
    owner_uid: int | None
    credentials: dict[int, Credential] = field(default_factory=dict)
    orphans: list[Credential] = field(default_factory=list)  # deleted in the cloud only, still opening the door
    records: list[dict[str, Any]] = field(default_factory=list)

    def find(self, kind: str, vendor_id: int, missing: tuple[int, str]) -> Credential:
        found = self.credentials.get(vendor_id)
        if found is None or found.kind != kind:
            raise TTLockError(*missing)
        return found

    def of_kind(self, kind: str) -> list[Credential]:
        return [c for c in self.credentials.values() if c.kind == kind]


@dataclass
class _Token:
    uid: int
    client_id: str
    expires_ms: int
    revoked: bool = False


_Op = Callable[[Mapping[str, str], int], Awaitable[dict[str, Any] | None]]
_Handler = Callable[[web.Request], Awaitable[web.Response]]


class TTLockSandbox:
    """In-memory TTLock cloud: accounts, tokens, gateways, locks and their credentials and records."""

    def __init__(self, *, seed: int = 0, gateway_latency_s: float = 0.005, clock: Callable[[], float] = time.time):
        self.faults = Faults(seed)
        self.gateway_latency_s = gateway_latency_s  # long enough that two commands on one gateway really overlap
        self.calls: Counter[str] = Counter()
        self.busy_rejections = 0
        self._clock = clock
        self._accounts: dict[str, tuple[str, int, str]] = {}  # username -> (clientId, uid, md5 of the password)
        self._apps: dict[str, str] = {}  # clientId -> clientSecret
        self._tokens: dict[str, _Token] = {}
        self._refresh: dict[str, _Token] = {}
        self._gateways: dict[int, GatewaySeed] = {}
        self._busy: set[int] = set()  # gateways executing a command right now
        self._locks: dict[int, Lock] = {}
        self._ids = itertools.count(1001)
        self._ops: dict[str, _Op] = {
            "/v3/keyboardPwd/add": self._passcode_add,
            "/v3/keyboardPwd/delete": self._passcode_delete,
            "/v3/keyboardPwd/change": self._passcode_change,
            "/v3/lock/listKeyboardPwd": self._list_of("passcode"),
            "/v3/key/send": self._ekey_send,
            "/v3/key/delete": self._ekey_delete,
            "/v3/key/changePeriod": self._ekey_change,
            "/v3/lock/listKey": self._list_of("ekey"),
            "/v3/identityCard/add": self._card_add,
            "/v3/identityCard/delete": self._card_delete,
            "/v3/identityCard/changePeriod": self._card_change,
            "/v3/identityCard/list": self._list_of("card"),
            "/v3/gateway/list": self._gateway_list,
            "/v3/gateway/listByLock": self._gateway_list_by_lock,
            "/v3/lock/detail": self._lock_detail,
            "/v3/lockRecord/list": self._record_list,
        }

    # -- set-up and inspection, shared by the admin API and in-process tests ------------------------------------------

    def add_account(self, client_id: str, client_secret: str, username: str, password: str) -> int:
        """Register a lock-admin account of an application; returns its uid."""
        uid = self._accounts[username][1] if username in self._accounts else next(self._ids)
        self._accounts[username] = (client_id, uid, hashlib.md5(password.encode(), usedforsecurity=False).hexdigest())
        self._apps[client_id] = client_secret
        return uid

    def set_gateway(self, gateway_id: int, *, is_online: bool = True) -> None:
        """Add a gateway or switch it on- or offline."""
        self._gateways[gateway_id] = GatewaySeed(gateway_id=gateway_id, is_online=is_online)

    def add_lock(self, lock_id: int, **options: Any) -> None:
        """Add (or replace) a lock; options as :class:`LockSeed`. A new gateway id adds an online gateway."""
        seed = LockSeed(lock_id=lock_id, **options)
        if seed.lock_mac is None:
            seed.lock_mac = ":".join(f"{b:02X}" for b in lock_id.to_bytes(6, "big"))
        if seed.gateway_id is not None and seed.gateway_id not in self._gateways:
            self.set_gateway(seed.gateway_id)
        owner = self._accounts.get(seed.owner or "")
        if seed.owner is not None and owner is None:
            raise KeyError(f"no account {seed.owner!r} to own lock {lock_id}")
        previous = self._locks.get(lock_id)
        self._locks[lock_id] = Lock(seed, owner[1] if owner else None)
        if previous is not None:  # re-posting a lock changes its settings, not what is stored on it
            current = self._locks[lock_id]
            current.credentials, current.orphans, current.records = (
                previous.credentials,
                previous.orphans,
                previous.records,
            )

    def add_record(
        self, lock_id: int, record_type: int, *, success: bool = True, username: str = "", keyboard_pwd: str = ""
    ) -> dict[str, Any]:
        """Append a lock record (as if the lock had uploaded it) for ``/v3/lockRecord/list``."""
        lock, now = self._locks[lock_id], self._now_ms()
        record = {
            "recordId": next(self._ids),
            "lockId": lock_id,
            "recordType": record_type,
            "success": int(success),
            "username": username,
            "keyboardPwd": keyboard_pwd,
            "lockDate": now,
            "serverDate": now,
            "electricQuantity": lock.seed.battery,
        }
        lock.records.append(record)
        return record

    def credentials(self, lock_id: int, *, include_cloud_only: bool = False) -> list[dict[str, Any]]:
        """What really opens the lock (plus, on request, what the cloud lists but the lock never got)."""
        lock = self._locks[lock_id]
        views = [c.view() for c in lock.credentials.values() if c.on_lock or include_cloud_only]
        return views + [c.view(in_cloud=False) for c in lock.orphans]

    def revoke_tokens(self) -> None:
        """Expire every access token (refresh tokens stay valid), as TTLock does when a token is revoked."""
        for token in self._tokens.values():
            token.revoked = True

    def stats(self) -> dict[str, Any]:
        """Calls per path, credentials per kind, faults fired and gateway-busy refusals."""
        stored = Counter(c.kind for lock in self._locks.values() for c in lock.credentials.values())
        cloud_only = sum(not c.on_lock for lock in self._locks.values() for c in lock.credentials.values())
        return {
            "calls": dict(self.calls),
            "credentials": {**stored, "cloud_only": cloud_only},
            "faultsFired": dict(self.faults.fired),
            "gatewayBusyRejections": self.busy_rejections,
        }

    def apply_seed(self, seed: SandboxSeed) -> None:
        """Load accounts, gateways, locks and faults from a seed file's content."""
        for account in seed.accounts:
            self.add_account(**account.model_dump())
        for gateway in seed.gateways:
            self.set_gateway(gateway.gateway_id, is_online=gateway.is_online)
        for lock in seed.locks:
            self.add_lock(**lock.model_dump())
        for fault in seed.faults:
            self.faults.set(fault.mode, rate=fault.rate, count=fault.count, latency_ms=fault.latency_ms)

    # -- the TTLock wire API ------------------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.calls[path] += 1
        params: dict[str, str] = dict(request.query)
        if request.method == "POST":
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        fault = self.faults.draw(path)
        if fault is not None and (answer := await self._inject(fault)) is not None:
            return answer
        try:
            if path == "/oauth2/token":
                return web.json_response(self._oauth(params))
            uid = self._authenticate(params)
            result = await self._ops[path](params, uid)
        except TTLockError as err:
            return web.json_response({"errcode": err.code, "errmsg": err.msg})
        return web.json_response(result if result else _OK)

    async def _inject(self, fault: FaultSeed) -> web.StreamResponse | None:
        """The faulty answer, or None when the fault only delays or alters state and the call goes on."""
        if fault.mode == "latency":
            await asyncio.sleep((fault.latency_ms or 200) / 1000)
        elif fault.mode == "timeout":
            # Answer far too late; the call still executes afterwards, as a slow TTLock's would.
            await asyncio.sleep((fault.latency_ms or 10_000) / 1000)
        elif fault.mode == "token_expired":
            self.revoke_tokens()
        elif fault.mode == "http_5xx":
            status = self.faults.rng.choice((502, 503))
            return web.Response(status=status, text=f"{status} from the load balancer")
        elif fault.mode == "malformed":
            return web.Response(text="<html><body>upstream error</body></html>", content_type="text/html")
        else:
            code, msg = _FAULT_ERRCODES[fault.mode]
            return web.json_response({"errcode": code, "errmsg": msg})
        return None

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
        token = _Token(uid, client_id, self._now_ms() + TOKEN_LIFETIME_S * 1000)
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        self._tokens[access] = self._refresh[refresh] = token
        return {"access_token": access, "uid": uid, "refresh_token": refresh, "expires_in": TOKEN_LIFETIME_S}

    def _authenticate(self, p: Mapping[str, str]) -> int:
        if p.get("clientId", "") not in self._apps:
            raise TTLockError(10000, "client_id does not exist")
        if abs(_int(p, "date") - self._now_ms()) > DATE_TOLERANCE_MS:
            raise TTLockError(80000, "date must be current time, in 5 minutes")
        token = self._tokens.get(p.get("accessToken", ""))
        if token is None or token.client_id != p["clientId"]:
            raise TTLockError(10003, "token does not exist")
        if token.revoked or token.expires_ms <= self._now_ms():
            raise TTLockError(10004, "token is invalid or revoked")
        return token.uid

    def _lock(self, p: Mapping[str, str], uid: int) -> Lock:
        lock = self._locks.get(_int(p, "lockId"))
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
        start, end = _int(p, "startDate", 0 if not required else None), _int(p, "endDate", 0 if not required else None)
        if (required or end) and end <= start:
            raise TTLockError(-3, "Invalid Parameter: endDate must be after startDate")
        return start, end

    async def _passcode_add(self, p: Mapping[str, str], uid: int) -> dict[str, Any]:
        lock, pwd = self._lock(p, uid), _pin(p.get("keyboardPwd", ""))
        start, end = self._window(p, required=_int(p, "keyboardPwdType", 3) != 2)
        passcodes = lock.of_kind("passcode")
        if any(c.secret == pwd for c in passcodes):
            raise TTLockError(-3007, "the same passcode already exists")
        if len(passcodes) >= MAX_PASSCODES:
            raise TTLockError(-3009, "no space left for custom passcodes")
        on_lock = await self._deliver(lock, _int(p, "addType", 1))
        found = Credential("passcode", next(self._ids), pwd, p.get("keyboardPwdName", ""), start, end, on_lock)
        lock.credentials[found.vendor_id] = found
        return {"keyboardPwdId": found.vendor_id}

    async def _passcode_delete(self, p: Mapping[str, str], uid: int) -> None:
        lock = self._lock(p, uid)
        self._remove(
            lock,
            lock.find("passcode", _int(p, "keyboardPwdId"), (-2009, "passcode does not exist")),
            await self._deliver(lock, _int(p, "deleteType", 1)),
        )

    async def _passcode_change(self, p: Mapping[str, str], uid: int) -> None:
        lock = self._lock(p, uid)
        found = lock.find("passcode", _int(p, "keyboardPwdId"), (-2009, "passcode does not exist"))
        new_pwd = _pin(p["newKeyboardPwd"]) if p.get("newKeyboardPwd") else found.secret
        if any(c.secret == new_pwd and c is not found for c in lock.of_kind("passcode")):
            raise TTLockError(-3007, "the same passcode already exists")
        start, end = self._window(p) if "startDate" in p else (found.start_ms, found.end_ms)
        found.on_lock = await self._deliver(lock, _int(p, "changeType", 1))
        found.secret, found.start_ms, found.end_ms = new_pwd, start, end

    async def _ekey_send(self, p: Mapping[str, str], uid: int) -> dict[str, Any]:
        lock, (start, end) = self._lock(p, uid), self._window(p)
        receiver = p.get("receiverUsername", "")
        if not receiver:
            raise TTLockError(-3, "Invalid Parameter: receiverUsername")
        # eKeys live in the cloud and the guest's phone: no gateway command is involved.
        found = Credential("ekey", next(self._ids), receiver, p.get("keyName", ""), start, end)
        lock.credentials[found.vendor_id] = found
        return {"keyId": found.vendor_id}

    def _ekey(self, p: Mapping[str, str], uid: int) -> tuple[Lock, Credential]:
        key_id = _int(p, "keyId")
        for lock in self._locks.values():
            if key_id in lock.credentials and lock.credentials[key_id].kind == "ekey":
                return self._lock({"lockId": str(lock.seed.lock_id)}, uid), lock.credentials[key_id]
        raise TTLockError(-1008, "eKey does not exist")

    async def _ekey_delete(self, p: Mapping[str, str], uid: int) -> None:
        lock, found = self._ekey(p, uid)
        del lock.credentials[found.vendor_id]

    async def _ekey_change(self, p: Mapping[str, str], uid: int) -> None:
        found = self._ekey(p, uid)[1]
        found.start_ms, found.end_ms = self._window(p)

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
        on_lock = await self._deliver(lock, _int(p, "addType", 1))
        found = Credential("card", next(self._ids), number, p.get("cardName", ""), start, end, on_lock)
        lock.credentials[found.vendor_id] = found
        return {"cardId": found.vendor_id}

    async def _card_delete(self, p: Mapping[str, str], uid: int) -> None:
        lock = self._card_lock(p, uid)
        self._remove(
            lock,
            lock.find("card", _int(p, "cardId"), (-1021, "IC card does not exist")),
            await self._deliver(lock, _int(p, "deleteType", 1)),
        )

    async def _card_change(self, p: Mapping[str, str], uid: int) -> None:
        lock = self._card_lock(p, uid)
        found = lock.find("card", _int(p, "cardId"), (-1021, "IC card does not exist"))
        start, end = self._window(p)
        found.on_lock = await self._deliver(lock, _int(p, "changeType", 1))
        found.start_ms, found.end_ms = start, end

    @staticmethod
    def _remove(lock: Lock, found: Credential, on_lock: bool) -> None:
        del lock.credentials[found.vendor_id]
        if not on_lock and found.on_lock:  # deleted in the cloud only: the lock still opens for it
            lock.orphans.append(found)

    def _list_of(self, kind: Literal["passcode", "ekey", "card"]) -> _Op:
        async def list_kind(p: Mapping[str, str], uid: int) -> dict[str, Any]:
            lock = self._lock(p, uid) if kind != "card" else self._card_lock(p, uid)
            return _page([_listed(c, lock.seed.lock_id) for c in lock.of_kind(kind)], p)

        return list_kind

    async def _gateway_list(self, p: Mapping[str, str], uid: int) -> dict[str, Any]:
        mine = {lock.seed.gateway_id for lock in self._locks.values() if lock.owner_uid in (None, uid)}
        return _page([self._gateway_view(g) for g in self._gateways.values() if g.gateway_id in mine], p)

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
        start, end = _int(p, "startDate", 0), _int(p, "endDate", 0) or math.inf
        return _page([r for r in lock.records if start <= r["lockDate"] <= end], p)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # -- the admin API: JSON under /sandbox/, not part of TTLock -------------------------------------------------------

    def create_app(self) -> web.Application:
        """The aiohttp application: TTLock's API plus the ``/sandbox/`` admin API."""
        app = web.Application()
        app[SANDBOX_KEY] = self
        for path in ("/oauth2/token", *self._ops):
            app.router.add_route("*", path, self._api)
        app.router.add_post("/sandbox/accounts", self._admin(AccountSeed, lambda s: {"uid": self.add_account(**s)}))
        app.router.add_post("/sandbox/locks", self._admin(LockSeed, lambda s: self.add_lock(**s)))
        app.router.add_post("/sandbox/gateways", self._admin(GatewaySeed, lambda s: self.set_gateway(**s)))
        app.router.add_post("/sandbox/faults", self._admin(FaultSeed, lambda s: self.faults.set(**s)))
        app.router.add_delete("/sandbox/faults", self._clear_faults)
        app.router.add_get("/sandbox/faults", self._list_faults)
        app.router.add_get("/sandbox/stats", self._stats)
        app.router.add_get("/sandbox/locks/{lock_id}/credentials", self._lock_credentials)
        app.router.add_post("/sandbox/locks/{lock_id}/records", self._lock_record)
        return app

    def _admin(self, model: type[Seed], apply: Callable[[dict[str, Any]], Any]) -> _Handler:
        """A JSON admin endpoint: validate the body as ``model``, apply it, answer the result (or the body)."""

        async def handle(request: web.Request) -> web.Response:
            try:
                seed = model.model_validate_json(await request.read())
                result = apply(seed.model_dump())
                return web.json_response(seed.model_dump(by_alias=True) if result is None else result, status=201)
            except ValidationError as err:
                return web.json_response({"error": err.errors(include_url=False, include_context=False)}, status=400)
            except KeyError as err:
                return web.json_response({"error": str(err)}, status=404)

        return handle

    async def _list_faults(self, request: web.Request) -> web.Response:
        return web.json_response(self.faults.active())

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _clear_faults(self, request: web.Request) -> web.Response:
        self.faults.clear(request.query.get("mode"))
        return web.json_response(self.faults.active())

    async def _lock_credentials(self, request: web.Request) -> web.Response:
        lock_id = int(request.match_info["lock_id"])
        if lock_id not in self._locks:
            raise web.HTTPNotFound(text=f"no lock {lock_id}")
        return web.json_response(self.credentials(lock_id, include_cloud_only=request.query.get("all") == "1"))

    async def _lock_record(self, request: web.Request) -> web.Response:
        lock_id, body = int(request.match_info["lock_id"]), await request.json()
        if lock_id not in self._locks:
            raise web.HTTPNotFound(text=f"no lock {lock_id}")
        return web.json_response(
            self.add_record(
                lock_id,
                int(body["recordType"]),
                success=bool(body.get("success", True)),
                username=str(body.get("username", "")),
                keyboard_pwd=str(body.get("keyboardPwd", "")),
            ),
            status=201,
        )

    @asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """Serve on loopback (port 0: a free port); yields the base URL, e.g. ``http://127.0.0.1:41234``."""
        if host not in _LOOPBACK:
            raise ValueError(f"the TTLock sandbox has an unauthenticated admin API: loopback only, not {host!r}")
        # A short shutdown timeout: requests held by the ``timeout`` fault must not delay the end of a test.
        runner = web.AppRunner(self.create_app(), shutdown_timeout=0.2)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            bound_host, bound_port = runner.addresses[0][:2]
            yield f"http://[{bound_host}]:{bound_port}" if ":" in bound_host else f"http://{bound_host}:{bound_port}"
        finally:
            await runner.cleanup()


SANDBOX_KEY = web.AppKey("ttlock_sandbox", TTLockSandbox)


async def run_sandbox(host: str, port: int, *, seed_file: Path | None = None) -> None:
    """Run a TTLock sandbox on loopback until cancelled (``lis sandbox ttlock``), seeded from a JSON file if given."""
    text = await asyncio.to_thread(seed_file.read_text) if seed_file else "{}"
    seed = SandboxSeed.model_validate_json(text)
    sandbox = TTLockSandbox(seed=seed.random_seed)
    sandbox.apply_seed(seed)
    async with sandbox.serve(host, port):
        await asyncio.Event().wait()


def _int(p: Mapping[str, str], name: str, default: int | None = None) -> int:
    raw = p.get(name)
    if raw is None or raw == "":
        if default is None:
            raise TTLockError(-3, f"Invalid Parameter: {name} is required")
        return default
    try:
        return int(raw)
    except ValueError:
        raise TTLockError(-3, f"Invalid Parameter: {name} must be an integer") from None


def _pin(pwd: str) -> str:
    if not re.fullmatch(r"[0-9]{4,9}", pwd):
        raise TTLockError(-3006, "passcode must be 4 to 9 digits")
    return pwd


def _page(items: list[dict[str, Any]], p: Mapping[str, str]) -> dict[str, Any]:
    page_no, page_size = _int(p, "pageNo", 1), _int(p, "pageSize", 20)
    if page_no < 1 or not 1 <= page_size <= 200:
        raise TTLockError(-3, "Invalid Parameter: pageNo >= 1 and pageSize 1..200")
    chunk = items[(page_no - 1) * page_size : page_no * page_size]
    return {
        "list": chunk,
        "pageNo": page_no,
        "pageSize": page_size,
        "pages": math.ceil(len(items) / page_size),
        "total": len(items),
    }


def _listed(c: Credential, lock_id: int) -> dict[str, Any]:
    """A credential as TTLock's list endpoints show it."""
    common = {"lockId": lock_id, "startDate": c.start_ms, "endDate": c.end_ms}
    if c.kind == "passcode":
        return {
            **common,
            "keyboardPwdId": c.vendor_id,
            "keyboardPwd": c.secret,
            "keyboardPwdName": c.name,
            "keyboardPwdType": 3 if c.end_ms else 2,
            "isCustom": 1,
        }
    if c.kind == "ekey":
        return {**common, "keyId": c.vendor_id, "username": c.secret, "keyName": c.name, "keyStatus": "110401"}
    return {**common, "cardId": c.vendor_id, "cardNumber": c.secret, "cardName": c.name}
