"""The toy vendor's adapter: PIN codes on a lock through a small JSON API (``/v1/locks/{lock}/codes``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel

from app.domain.credential import (
    Capabilities,
    CredentialKind,
    IssuedCredential,
    IssueRequest,
    LockRef,
    LockStatus,
    Validity,
)
from app.domain.errors import (
    CredentialNotFound,
    DuplicateCredential,
    GatewayBusy,
    InvalidRequest,
    LockError,
    RateLimited,
    Unsupported,
    VendorTimeout,
    VendorUnavailable,
)

CAPABILITIES = Capabilities(kinds=frozenset({CredentialKind.PASSCODE}), remote_revoke=True, remote_update=True,
                            lists_credentials=True)
# The vendor's error codes -> canonical errors; any other failure is the vendor being unavailable.
ERRORS: dict[str, type[LockError]] = {"unknown_lock": CredentialNotFound, "unknown_code": CredentialNotFound,
                                      "duplicate_pin": DuplicateCredential, "gateway_busy": GatewayBusy,
                                      "gateway_offline": VendorUnavailable, "bad_request": InvalidRequest}


class ToyConfig(BaseModel):
    base_url: str
    timeout_s: float = 5.0


class ToyClient:
    def __init__(self, config: ToyConfig) -> None:
        self._http = httpx.AsyncClient(base_url=config.base_url, timeout=config.timeout_s)

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    async def issue(self, request: IssueRequest) -> IssuedCredential:
        if request.kind is not CredentialKind.PASSCODE:
            raise Unsupported(f"the toy vendor has no {request.kind} credentials")
        pin = request.secret or ""
        if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 9):
            raise InvalidRequest("a passcode needs a PIN of 4 to 9 digits")
        body = await self._call("POST", f"/v1/locks/{request.lock.vendor_lock_id}/codes",
                                {"label": request.label, "pin": pin, **_window(request.validity)})
        return _issued(body)

    async def issue_offline(self, request: IssueRequest) -> IssuedCredential:
        raise Unsupported("the toy vendor has no offline passcodes")

    async def revoke(self, lock: LockRef, vendor_ref: str) -> None:
        await self._call("DELETE", f"/v1/locks/{lock.vendor_lock_id}/codes/{vendor_ref}")

    async def update_validity(self, lock: LockRef, vendor_ref: str, validity: Validity) -> None:
        await self._call("PATCH", f"/v1/locks/{lock.vendor_lock_id}/codes/{vendor_ref}", _window(validity))

    async def lock_status(self, lock: LockRef) -> LockStatus:
        body = await self._call("GET", f"/v1/locks/{lock.vendor_lock_id}")
        return LockStatus(online=body["online"], battery_percent=body["battery"],
                          checked_at=datetime.fromisoformat(body["checkedAt"]))

    async def list_credentials(self, lock: LockRef) -> list[IssuedCredential]:
        body = await self._call("GET", f"/v1/locks/{lock.vendor_lock_id}/codes")
        return [_issued(code) for code in body["codes"]]

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            answer = await self._http.request(method, path, json=body)
        except httpx.TimeoutException as err:
            raise VendorTimeout(f"the toy vendor did not answer {method} {path} in time") from err
        except httpx.HTTPError as err:
            raise VendorUnavailable(f"the toy vendor is unreachable: {type(err).__name__}") from err
        if answer.is_success:
            return answer.json() if answer.content else {}
        error = _vendor_error(answer)
        if answer.status_code == 429:
            retry_after = answer.headers.get("Retry-After")
            raise RateLimited("the toy vendor limits our calls", vendor_code=error,
                              retry_after=float(retry_after) if retry_after else None) from _failure(answer)
        raise ERRORS.get(error, VendorUnavailable)(f"the toy vendor answered {answer.status_code} {error}",
                                                   vendor_code=error) from _failure(answer)


def _vendor_error(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("error", answer.status_code))
    except ValueError:
        return str(answer.status_code)


def _failure(answer: httpx.Response) -> httpx.HTTPStatusError:
    return httpx.HTTPStatusError(f"{answer.status_code}", request=answer.request, response=answer)


def _window(validity: Validity) -> dict[str, str]:
    return {"starts": validity.starts_at.isoformat(), "ends": validity.ends_at.isoformat()}


def _issued(code: dict[str, Any]) -> IssuedCredential:
    return IssuedCredential(vendor_ref=code["id"], kind=CredentialKind.PASSCODE, label=code["label"],
                            validity=Validity(starts_at=datetime.fromisoformat(code["starts"]),
                                              ends_at=datetime.fromisoformat(code["ends"])))
