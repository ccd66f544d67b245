"""Salto Space failures translated to the canonical lock errors of :mod:`app.domain.errors`.

Salto answers with HTTP status codes and a JSON body ``{"success": false, "message": "..."}``, so the status table
below is the contract between Salto and the rest of the service. One status has an endpoint-specific meaning the
client handles before it gets here: 409 on ``POST /api/v1/users`` means the ``extUserId`` (our label) already exists,
i.e. an earlier attempt of the same issue got through, and the client adopts that user. Callers chain the cause:
``raise from_status(...) from SaltoAnswer(...)``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

import httpx

from app.domain.errors import (
    CredentialNotFound,
    DuplicateCredential,
    GatewayBusy,
    InvalidRequest,
    LockError,
    RateLimited,
    Unauthorized,
    Unsupported,
    VendorTimeout,
    VendorUnavailable,
)


class SaltoAnswer(Exception):
    """What Salto actually answered, kept as ``__cause__`` of the canonical error so operators can see it."""

    def __init__(self, detail: str, *, status: int) -> None:
        super().__init__(detail)
        self.status = status


# status -> (canonical error, note for operators)
STATUSES: Final[dict[int, tuple[type[LockError], str]]] = {
    400: (InvalidRequest, "request refused as malformed"),
    401: (Unauthorized, "client credentials or token refused (a renewed token did not help)"),
    403: (Unauthorized, "the API client lacks the permission for this call"),
    404: (CredentialNotFound, "user, access point or encoder does not exist"),
    409: (DuplicateCredential, "conflict: the PIN code is already used on this access point"),
    422: (InvalidRequest, "request refused as invalid"),
    423: (GatewayBusy, "the access point's gateway is executing another command"),
    429: (RateLimited, "too many API calls"),
    501: (Unsupported, "not supported by this installation"),
}


def from_status(status: int, message: str, *, retry_after: float | None = None) -> LockError:
    """The canonical error for a Salto HTTP status; ``vendor_code`` is ``http_<status>``.

    A status missing from the table is VendorUnavailable: 5xx from Salto or its load balancer, and anything else that
    says the API proper did not handle the call, are worth a bounded number of retries.
    """
    error_type, note = STATUSES.get(status, (VendorUnavailable, "Salto or its gateway is unavailable"))
    text = f"Salto answered HTTP {status}: {note} ({message})"
    if error_type is RateLimited:
        return RateLimited(text, vendor_code=f"http_{status}", retry_after=retry_after)
    return error_type(text, vendor_code=f"http_{status}")


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or an HTTP date); None when absent or garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdecimal():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" dates parse naive; HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def from_transport(err: httpx.HTTPError) -> LockError:
    """The canonical error for an httpx failure: a timeout may or may not have executed, the rest did not reach it."""
    if isinstance(err, httpx.TimeoutException):
        return VendorTimeout(f"Salto did not answer in time: {type(err).__name__}", vendor_code="timeout")
    return VendorUnavailable(f"Salto unreachable: {type(err).__name__}: {err}", vendor_code="transport")


def malformed_body(detail: str) -> VendorUnavailable:
    """The canonical error for a 2xx answer that is not Salto's JSON envelope (e.g. a proxy's HTML page)."""
    return VendorUnavailable(f"Salto answered a body that is not its JSON envelope: {detail}", vendor_code="malformed")
