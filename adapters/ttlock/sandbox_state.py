"""The TTLock sandbox's in-memory vendor state: accounts, tokens, gateways, locks, credentials and records, and the
journal of what the locks really applied (:mod:`adapters.sandbox_journal`)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from adapters.sandbox_faults import AMBIGUOUS_MODES, Faults, FaultSeed, everywhere
from adapters.sandbox_journal import DoorCredential, DoorKind, Journal
from adapters.ttlock.mapping import KEYPAD_RECORD_TYPE

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
# Every call that changes a lock: where an answer lost after the change leaves the client not knowing.
_MUTATING_PATHS = _GATEWAY_PATHS | {"/v3/key/send", "/v3/key/delete", "/v3/key/changePeriod", "/v3/keyboardPwd/get"}
KEYPAD_UNLOCK = KEYPAD_RECORD_TYPE  # recordType: unlocked (or tried) with a passcode on the keypad
# Where each fault can hit: gateway and passcode faults only where TTLock would produce them; the rest any API call,
# the token one included.
FAULT_MODES = {
    "latency": everywhere,
    "timeout": everywhere,
    "http_5xx": everywhere,
    "rate_limit": everywhere,
    "malformed": everywhere,
    "token_expired": lambda path: path.startswith("/v3/"),
    "gateway_busy": _GATEWAY_PATHS.__contains__,
    "gateway_offline": _GATEWAY_PATHS.__contains__,
    "duplicate": "/v3/keyboardPwd/add".__eq__,
    **dict.fromkeys(AMBIGUOUS_MODES, _MUTATING_PATHS.__contains__),
}
_DOOR_KINDS: dict[str, DoorKind] = {"passcode": "passcode", "ekey": "mobile_key", "card": "card"}


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


class SandboxSeed(Seed):
    """A seed file for ``lis sandbox ttlock``."""

    random_seed: int = 0
    accounts: list[AccountSeed] = []
    gateways: list[GatewaySeed] = []
    locks: list[LockSeed] = []
    faults: list[FaultSeed] = []


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
    on_lock: bool = True  # False: the cloud has it, the lock never received it (addType=1) or not this version
    algorithmic: bool = False  # an offline code from /v3/keyboardPwd/get: the lock checks it by itself

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

    def held(self, lock_id: int) -> DoorCredential:
        """This credential as the journal names it on lock ``lock_id``."""
        return DoorCredential(
            lock=str(lock_id),
            credential=str(self.vendor_id),
            kind=_DOOR_KINDS[self.kind],
            label=self.name,
            valid_from_ms=self.start_ms,
            valid_until_ms=self.end_ms,
            secret=self.secret,
            offline=self.algorithmic,
        )


@dataclass
class Lock:
    seed: LockSeed
    owner_uid: int | None
    credentials: dict[int, Credential] = field(default_factory=dict)
    # Deleted or changed in the cloud only: the version the lock still opens for.
    orphans: list[Credential] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)

    def find(self, kind: str, vendor_id: int, missing: tuple[int, str]) -> Credential:
        found = self.credentials.get(vendor_id)
        if found is None or found.kind != kind:
            raise TTLockError(*missing)
        return found

    def of_kind(self, kind: str) -> list[Credential]:
        return [c for c in self.credentials.values() if c.kind == kind]

    def door(self) -> list[DoorCredential]:
        """What really opens the lock (as :meth:`SandboxState.credentials` shows it), for the journal."""
        on_lock = [c for c in self.credentials.values() if c.on_lock]
        return [c.held(self.seed.lock_id) for c in [*on_lock, *self.orphans]]

    def drop_orphan(self, vendor_id: int) -> None:
        """The lock was told about ``vendor_id`` again: the version it kept is replaced or deleted."""
        self.orphans = [c for c in self.orphans if c.vendor_id != vendor_id]


@dataclass
class Token:
    uid: int
    client_id: str
    expires_ms: int
    revoked: bool = False


class SandboxState:
    """In-memory TTLock cloud: accounts, tokens, gateways, locks and their credentials and records."""

    def __init__(self, *, seed: int = 0, gateway_latency_s: float = 0.005, clock: Callable[[], float] = time.time):
        self.faults = Faults(FAULT_MODES, seed)
        self.gateway_latency_s = gateway_latency_s  # long enough that two commands on one gateway really overlap
        self.calls: Counter[str] = Counter()
        self.busy_rejections = 0
        self.journal = Journal(clock)
        self._clock = clock
        self._accounts: dict[str, tuple[str, int, str]] = {}  # username -> (clientId, uid, md5 of the password)
        self._apps: dict[str, str] = {}  # clientId -> clientSecret
        self._tokens: dict[str, Token] = {}
        self._refresh: dict[str, Token] = {}
        self._gateways: dict[int, GatewaySeed] = {}
        self._busy: set[int] = set()  # gateways executing a command right now
        self._locks: dict[int, Lock] = {}
        self._ids = itertools.count(1001)
        self._lock_secret = secrets.token_bytes(32)  # stands for the locks' own secrets behind offline codes

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
        self, lock_id: int, record_type: int, *, success: bool = True, username: str = "", keyboard_pwd: str = "",
        at_ms: int | None = None,
    ) -> dict[str, Any]:
        """Append a lock record (as if the lock had uploaded it) for ``/v3/lockRecord/list``."""
        lock, now = self._locks[lock_id], self._now_ms()
        lock_date = now if at_ms is None else at_ms
        record = {
            "recordId": next(self._ids),
            "lockId": lock_id,
            "recordType": record_type,
            "success": int(success),
            "username": username,
            "keyboardPwd": keyboard_pwd,
            "lockDate": lock_date,
            "serverDate": now,
            "electricQuantity": lock.seed.battery,
        }
        lock.records.append(record)
        return record

    def offline_code(self, lock: Lock, start_ms: int, end_ms: int, name: str) -> str:
        """The digits the cloud derives for an offline period code: from the lock's own secret (here the sandbox's
        key and the lock's MAC), the window and the request, so no two codes of one lock collide in practice."""
        taken = {c.secret for c in lock.of_kind("passcode")}
        for attempt in itertools.count():
            message = f"{lock.seed.lock_mac}|{start_ms}|{end_ms}|{name}|{attempt}".encode()
            digest = hmac.new(self._lock_secret, message, hashlib.sha256).digest()
            code = f"{int.from_bytes(digest[:8], 'big') % 10**9:09d}"
            if code not in taken:
                return code
        raise AssertionError("unreachable")

    def type_code(self, lock_id: int, code: str, at_ms: int | None = None) -> bool:
        """Someone types ``code`` on the lock's keypad at ``at_ms`` (default now): the lock opens when a passcode it
        holds has these digits and its window covers that moment; either way the lock records the attempt."""
        lock, at = self._locks[lock_id], self._now_ms() if at_ms is None else at_ms
        opened = any(held.kind == "passcode" and held.secret == code and held.valid_from_ms <= at < held.valid_until_ms
                     for held in lock.door())
        self.add_record(lock_id, KEYPAD_UNLOCK, success=opened, keyboard_pwd=code, at_ms=at)
        return opened

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
            self.faults.arm(fault)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)
