"""The TTLock adapter: the canonical LockPort over TTLock Open Platform cloud API v3.

Passcodes go through ``/v3/keyboardPwd`` with addType/deleteType/changeType 2 (through the gateway; a bluetooth-type
add from the cloud would show as valid but never reach the lock), mobile keys through ``/v3/key`` (eKeys) and cards
through ``/v3/identityCard``. Every failure leaves this module as a canonical :class:`~app.domain.errors.LockError`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr

from adapters.ttlock import errors, mapping
from adapters.ttlock.webhook import TTLockRecord
from app.domain.credential import (
    Capabilities,
    CredentialKind,
    IssuedCredential,
    IssueRequest,
    LockRef,
    LockStatus,
    Validity,
)
from app.domain.errors import InvalidRequest, Unauthorized
from app.domain.unlocks import LockUnlock

_PAGE_SIZE = 100  # TTLock allows up to 200; 100 keeps each answer small on large locks.
_PERIOD = 3  # keyboardPwdType: valid between startDate and endDate
_VIA_GATEWAY = 2  # addType / deleteType / changeType: executed on the lock through its gateway
_REFRESH_MARGIN_S = 60.0  # renew a token this long before TTLock would expire it

_CAPABILITIES = Capabilities(
    kinds=frozenset(CredentialKind),
    remote_revoke=True,
    remote_update=True,
    lists_credentials=True,
    offline_passcodes=True,
)


class TTLockConfig(BaseModel):
    """One TTLock Open Platform application and the lock-admin account it acts for."""

    model_config = ConfigDict(frozen=True)

    base_url: str
    client_id: str
    client_secret: SecretStr
    username: str
    password: SecretStr  # plain; TTLock wants its lowercase hex MD5, computed per token request
    timeout_s: float = 5.0


class TTLockClient:
    """LockPort for TTLock. Obtains a token lazily and refreshes it once when TTLock calls it invalid."""

    def __init__(
        self,
        config: TTLockConfig,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._base_url = config.base_url.rstrip("/")
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=config.timeout_s)
        self._clock = clock
        self._access_token: str | None = None
        self._refresh_token: str | None = None
        self._expires_at = 0.0
        self._token_lock = asyncio.Lock()  # one token request at a time, however many calls are waiting

    @property
    def capabilities(self) -> Capabilities:
        """All three kinds, remotely revocable and updatable, listable for reconciliation, and offline passcodes."""
        return _CAPABILITIES

    async def issue(self, request: IssueRequest) -> IssuedCredential:
        """Put a passcode, eKey or IC card on the lock; ``label`` becomes its TTLock name."""
        lock_id = _lock_id(request.lock)
        window = mapping.validity_to_wire(request.validity)
        if request.kind is CredentialKind.PASSCODE:
            try:
                pin = mapping.check_pin(request.secret)
            except ValueError as err:
                raise InvalidRequest(str(err)) from err
            answer = await self._call(
                "/v3/keyboardPwd/add",
                lockId=lock_id,
                keyboardPwd=pin,
                keyboardPwdName=request.label,
                keyboardPwdType=_PERIOD,
                addType=_VIA_GATEWAY,
                **window,
            )
            vendor_id = answer.get("keyboardPwdId")
        elif request.kind is CredentialKind.MOBILE_KEY:
            receiver = _required_secret(request, "the receiver's TTLock username")
            # remoteEnable 2 = no remote unlock, keyRight 0 = not an admin: a guest key opens the door, nothing more.
            answer = await self._call(
                "/v3/key/send",
                lockId=lock_id,
                receiverUsername=receiver,
                keyName=request.label,
                remoteEnable=2,
                keyRight=0,
                **window,
            )
            vendor_id = answer.get("keyId")
        else:
            card_number = _required_secret(request, "the card number")
            answer = await self._call(
                "/v3/identityCard/add",
                lockId=lock_id,
                cardNumber=card_number,
                cardName=request.label,
                addType=_VIA_GATEWAY,
                **window,
            )
            vendor_id = answer.get("cardId")
        if not isinstance(vendor_id, int):
            raise errors.malformed_body(f"no id in the answer to issuing a {request.kind}")
        return IssuedCredential(
            vendor_ref=mapping.encode_ref(request.kind, vendor_id),
            kind=request.kind,
            label=request.label,
            validity=request.validity,
        )

    async def issue_offline(self, request: IssueRequest) -> IssuedCredential:
        """An algorithmic period passcode from ``/v3/keyboardPwd/get``: TTLock's cloud derives the digits from the
        lock's own secret and the window (whole hours), and the lock checks them itself, gateway or not."""
        if request.kind is not CredentialKind.PASSCODE:
            raise InvalidRequest(f"TTLock has offline passcodes only, not {request.kind}s")
        answer = await self._call(
            "/v3/keyboardPwd/get",
            lockId=_lock_id(request.lock),
            keyboardPwdType=_PERIOD,
            keyboardPwdName=request.label,
            **mapping.validity_to_wire(request.validity),
        )
        vendor_id, code = answer.get("keyboardPwdId"), answer.get("keyboardPwd")
        if not isinstance(vendor_id, int) or not code:
            raise errors.malformed_body("no keyboardPwdId or keyboardPwd in the answer to an offline passcode")
        return IssuedCredential(vendor_ref=mapping.encode_ref(CredentialKind.PASSCODE, vendor_id),
                                kind=CredentialKind.PASSCODE, label=request.label, validity=request.validity,
                                code=str(code))

    async def revoke(self, lock: LockRef, vendor_ref: str) -> None:
        """Delete the credential from the lock; CredentialNotFound if TTLock no longer has it."""
        lock_id = _lock_id(lock)
        kind, vendor_id = _decode(vendor_ref)
        if kind is CredentialKind.PASSCODE:
            await self._call("/v3/keyboardPwd/delete", lockId=lock_id, keyboardPwdId=vendor_id, deleteType=_VIA_GATEWAY)
        elif kind is CredentialKind.MOBILE_KEY:
            await self._call("/v3/key/delete", keyId=vendor_id)
        else:
            await self._call("/v3/identityCard/delete", lockId=lock_id, cardId=vendor_id, deleteType=_VIA_GATEWAY)

    async def update_validity(self, lock: LockRef, vendor_ref: str, validity: Validity) -> None:
        """Move the credential's validity window on the lock."""
        lock_id = _lock_id(lock)
        kind, vendor_id = _decode(vendor_ref)
        window = mapping.validity_to_wire(validity)
        if kind is CredentialKind.PASSCODE:
            await self._call(
                "/v3/keyboardPwd/change", lockId=lock_id, keyboardPwdId=vendor_id, changeType=_VIA_GATEWAY, **window
            )
        elif kind is CredentialKind.MOBILE_KEY:
            await self._call("/v3/key/changePeriod", keyId=vendor_id, **window)
        else:
            await self._call(
                "/v3/identityCard/changePeriod", lockId=lock_id, cardId=vendor_id, changeType=_VIA_GATEWAY, **window
            )

    async def lock_status(self, lock: LockRef) -> LockStatus:
        """Online when a gateway in reach of the lock is online; battery from the lock detail."""
        lock_id = _lock_id(lock)
        gateways = await self._call("/v3/gateway/listByLock", lockId=lock_id)
        detail = await self._call("/v3/lock/detail", lockId=lock_id)
        online = any(int(g.get("isOnline", 0)) == 1 for g in gateways.get("list") or [])
        battery = detail.get("electricQuantity")
        return LockStatus(
            online=online,
            battery_percent=int(battery) if isinstance(battery, int) and battery >= 0 else None,
            checked_at=datetime.fromtimestamp(self._clock(), UTC),
        )

    async def list_credentials(self, lock: LockRef) -> list[IssuedCredential]:
        """Every passcode, eKey and IC card TTLock holds for the lock, paging through each list."""
        lock_id = _lock_id(lock)
        found = [mapping.passcode_from_record(r) for r in await self._pages("/v3/lock/listKeyboardPwd", lock_id)]
        found += [mapping.ekey_from_record(r) for r in await self._pages("/v3/lock/listKey", lock_id)]
        found += [mapping.card_from_record(r) for r in await self._pages("/v3/identityCard/list", lock_id)]
        return found

    async def lock_records(self, lock: LockRef, start: datetime, end: datetime) -> list[TTLockRecord]:
        """The lock's records TTLock holds with a ``lockDate`` in [start, end]: what confirms an unsigned callback."""
        window = {"startDate": mapping.to_ms(start), "endDate": mapping.to_ms(end)}
        listed = await self._pages("/v3/lockRecord/list", _lock_id(lock), **window)
        try:
            return [TTLockRecord.model_validate(record) for record in listed]
        except ValueError as err:
            raise errors.malformed_body(f"unparsable lock record: {err}") from err

    async def unlocks(self, lock: LockRef, start: datetime, end: datetime) -> list[LockUnlock]:
        """The lock's keypad attempts (record type 4) in [start, end], with the digits typed."""
        return [LockUnlock(at=record.lock_date, code=record.keyboard_pwd or None, opened=record.success)
                for record in await self.lock_records(lock, start, end)
                if record.record_type == mapping.KEYPAD_RECORD_TYPE]

    async def aclose(self) -> None:
        """Close the HTTP client if this adapter created it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> TTLockClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _pages(self, path: str, lock_id: int, **filters: Any) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        page = 1
        while True:
            answer = await self._call(path, lockId=lock_id, pageNo=page, pageSize=_PAGE_SIZE, orderBy=1, **filters)
            records += answer.get("list") or []
            if page >= int(answer.get("pages") or 1):
                return records
            page += 1

    async def _call(self, path: str, **params: Any) -> dict[str, Any]:
        """One API call with the token; a token TTLock calls invalid is renewed once and the call retried."""
        token = await self._token()
        try:
            return await self._post(path, self._signed(params, token))
        except Unauthorized as err:
            if err.vendor_code is None or int(err.vendor_code) not in errors.TOKEN_ERRCODES:
                raise
            token = await self._token(stale=token)
            return await self._post(path, self._signed(params, token))

    def _signed(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        return {"clientId": self._config.client_id, "accessToken": token, "date": int(self._clock() * 1000), **params}

    async def _token(self, *, stale: str | None = None) -> str:
        """A valid access token. ``stale`` is one TTLock refused: replace it unless another call already has."""
        async with self._token_lock:
            current = self._access_token
            if current is not None and current != stale and self._clock() < self._expires_at - _REFRESH_MARGIN_S:
                return current
            answer: dict[str, Any] | None = None
            if self._refresh_token is not None:
                try:
                    answer = await self._post("/oauth2/token", self._grant(refresh=True))
                except Unauthorized:
                    answer = None  # the refresh token is dead too: log in again with the password
            if answer is None:
                answer = await self._post("/oauth2/token", self._grant(refresh=False))
            try:
                self._access_token = str(answer["access_token"])
                self._refresh_token = str(answer["refresh_token"])
                self._expires_at = self._clock() + float(answer["expires_in"])
            except (KeyError, TypeError, ValueError) as err:
                raise errors.malformed_body("token answer without access_token/refresh_token/expires_in") from err
            return self._access_token

    def _grant(self, *, refresh: bool) -> dict[str, str]:
        grant = {"clientId": self._config.client_id, "clientSecret": self._config.client_secret.get_secret_value()}
        if refresh and self._refresh_token is not None:
            return {**grant, "grant_type": "refresh_token", "refresh_token": self._refresh_token}
        # MD5 is TTLock's wire format for the password, not our protection of it.
        password = hashlib.md5(self._config.password.get_secret_value().encode(), usedforsecurity=False).hexdigest()
        return {**grant, "username": self._config.username, "password": password}

    async def _post(self, path: str, form: dict[str, Any]) -> dict[str, Any]:
        """POST a form; the JSON object answered, or the canonical error for whatever went wrong."""
        try:
            response = await self._http.post(
                self._base_url + path, data={k: str(v) for k, v in form.items()}, timeout=self._config.timeout_s
            )
        except httpx.HTTPError as err:
            raise errors.from_transport(err) from err
        if response.status_code != 200:
            cause = errors.TTLockAnswer(f"HTTP {response.status_code}", status=response.status_code)
            raise errors.from_http_status(response.status_code) from cause
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise errors.malformed_body(repr(response.text[:80])) from err
        if not isinstance(body, dict):
            raise errors.malformed_body(type(body).__name__) from errors.TTLockAnswer(repr(body)[:80])
        errcode = body.get("errcode", 0)
        if errcode in (0, "0", None):
            return body
        try:
            code = int(errcode)
        except (TypeError, ValueError) as err:
            raise errors.malformed_body(f"errcode {errcode!r}") from err
        errmsg = str(body.get("errmsg", ""))
        raise errors.translate(code, errmsg) from errors.TTLockAnswer(errmsg, errcode=code)


def _lock_id(lock: LockRef) -> int:
    try:
        return mapping.lock_id_of(lock.vendor_lock_id)
    except ValueError as err:
        raise InvalidRequest(str(err)) from err


def _decode(vendor_ref: str) -> tuple[CredentialKind, int]:
    try:
        return mapping.decode_ref(vendor_ref)
    except ValueError as err:
        raise InvalidRequest(str(err)) from err


def _required_secret(request: IssueRequest, what: str) -> str:
    if not request.secret:
        raise InvalidRequest(f"a TTLock {request.kind} needs {what} in IssueRequest.secret")
    return request.secret
