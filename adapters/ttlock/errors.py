"""TTLock failures translated to the canonical lock errors of :mod:`app.domain.errors`.

TTLock answers HTTP 200 with ``{"errcode": N, "errmsg": "..."}`` for every refusal, so the table below is the whole
contract between the vendor's codes and the rest of the service. Transport failures (timeouts, refused connections,
5xx pages from the load balancer, bodies that are not JSON) are translated by :func:`from_transport` and
:func:`from_http_status`. Callers always chain the cause: ``raise translate(code, msg) from err``.
"""

from __future__ import annotations

from typing import Final

import httpx

from app.domain.errors import (
    CredentialNotFound,
    DuplicateCredential,
    GatewayBusy,
    GatewayOffline,
    InvalidRequest,
    LockError,
    RateLimited,
    Unauthorized,
    Unsupported,
    VendorTimeout,
    VendorUnavailable,
)


class TTLockAnswer(Exception):
    """What TTLock actually answered, kept as ``__cause__`` of the canonical error so operators can see it."""

    def __init__(self, detail: str, *, errcode: int | None = None, status: int = 200) -> None:
        super().__init__(detail)
        self.errcode = errcode
        self.status = status


# Token codes: the client refreshes its token once on these before they surface as Unauthorized.
TOKEN_ERRCODES: Final = frozenset({10003, 10004})

# errcode -> (canonical error, note for operators). Codes and meanings from the TTLock Open Platform error list.
ERRCODES: Final[dict[int, tuple[type[LockError], str]]] = {
    # account, token and permission
    10000: (Unauthorized, "client_id does not exist"),
    10001: (Unauthorized, "invalid client: wrong client_id or client_secret"),
    10003: (Unauthorized, "token does not exist (refresh did not help)"),
    10004: (Unauthorized, "token invalid or revoked (refresh did not help)"),
    10007: (Unauthorized, "invalid account or password"),
    10011: (Unauthorized, "invalid refresh_token"),
    20002: (Unauthorized, "not lock admin"),
    -2018: (Unauthorized, "permission denied"),
    30001: (Unauthorized, "no permission for this API"),
    # quota
    30006: (RateLimited, "too many API calls"),
    30007: (RateLimited, "monthly API call quota exhausted"),
    # request refused as malformed
    -3: (InvalidRequest, "invalid parameter"),
    80000: (InvalidRequest, "date more than 5 minutes off: the host clock is skewed, check NTP"),
    80002: (InvalidRequest, "invalid JSON format"),
    -3006: (InvalidRequest, "passcode must be 4 to 9 digits"),
    -3007: (DuplicateCredential, "the same passcode already exists on this lock"),
    -3009: (InvalidRequest, "passcode storage of the lock is full (250)"),
    -4056: (InvalidRequest, "lock storage is full"),
    # lock or credential missing
    -1003: (CredentialNotFound, "lock does not exist"),
    -1008: (CredentialNotFound, "eKey does not exist"),
    -2009: (CredentialNotFound, "passcode does not exist"),
    -1021: (CredentialNotFound, "IC card does not exist"),
    # the lock cannot do it
    -4043: (Unsupported, "the lock does not support this operation"),
    -2025: (Unsupported, "the lock is frozen"),
    # reachability of lock and gateway
    -2012: (GatewayOffline, "lock not connected to a gateway"),
    -3002: (GatewayOffline, "gateway offline"),
    -3036: (GatewayOffline, "lock offline"),
    -3003: (GatewayBusy, "gateway busy with another command"),
    -3037: (GatewayBusy, "lock busy with another command"),
    # vendor side failures
    1: (VendorUnavailable, "operation failed"),
    90000: (VendorUnavailable, "TTLock internal server error"),
}


def translate(errcode: int, errmsg: str) -> LockError:
    """The canonical error for a TTLock errcode; ``vendor_code`` keeps the errcode for operators.

    An errcode missing from the table becomes VendorUnavailable: retrying an unknown failure a bounded number of times
    is cheaper than dropping a credential that a second attempt would have issued.
    """
    error_type, note = ERRCODES.get(errcode, (VendorUnavailable, "unknown TTLock errcode"))
    return error_type(f"TTLock errcode {errcode}: {note} ({errmsg})", vendor_code=str(errcode))


def from_http_status(status: int) -> LockError:
    """The canonical error for a non-200 HTTP answer (TTLock itself always answers 200)."""
    if status == 429:
        return RateLimited(f"TTLock answered HTTP {status}", vendor_code=f"http_{status}")
    if status in (401, 403):
        return Unauthorized(f"TTLock answered HTTP {status}", vendor_code=f"http_{status}")
    # 5xx from the vendor's load balancer, and any other status that means we did not reach the API proper.
    return VendorUnavailable(f"TTLock answered HTTP {status}", vendor_code=f"http_{status}")


def from_transport(err: httpx.HTTPError) -> LockError:
    """The canonical error for an httpx failure: a timeout may or may not have executed, the rest did not reach it."""
    if isinstance(err, httpx.TimeoutException):
        return VendorTimeout(f"TTLock did not answer in time: {type(err).__name__}", vendor_code="timeout")
    return VendorUnavailable(f"TTLock unreachable: {type(err).__name__}: {err}", vendor_code="transport")


def malformed_body(detail: str) -> VendorUnavailable:
    """The canonical error for a 200 answer whose body is not a TTLock JSON object (e.g. a proxy's HTML page)."""
    return VendorUnavailable(f"TTLock answered a body that is not a JSON object: {detail}", vendor_code="malformed")
