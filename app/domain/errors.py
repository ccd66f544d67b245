"""The canonical lock error tree.

Every vendor adapter translates its own failures into exactly one of these at its boundary
(``raise VendorUnavailable(...) from err``); nothing above the adapters knows a vendor errcode.

    LockError
    ├── RetryableLockError          the same call may succeed later
    │   ├── VendorUnavailable       5xx, connection refused, lock or gateway offline
    │   │   ├── GatewayOffline      the vendor answered: the lock's gateway (or the lock) is out of reach
    │   │   └── CircuitOpen         not even tried: the tenant's breaker for this vendor is open
    │   ├── RateLimited             429 / TTLock 30006; ``retry_after`` seconds when the vendor said
    │   ├── GatewayBusy             the lock's gateway is executing another command
    │   └── VendorTimeout           no answer in time: the call may or may not have happened
    └── PermanentLockError          retrying the same call will not help
        ├── CredentialNotFound      the lock or credential does not exist on the vendor side
        ├── Unsupported             the vendor or lock cannot do this operation
        ├── InvalidRequest          the request was refused as malformed (bad PIN, window, limit reached)
        │   └── DuplicateCredential the lock already holds the same code (pick another PIN)
        └── Unauthorized            the vendor refused our credentials or permissions
"""

from __future__ import annotations


class LockError(Exception):
    """Base of every canonical lock error; ``vendor_code`` keeps the vendor's own code for operators."""

    retryable: bool = False

    def __init__(self, message: str, *, vendor_code: str | None = None) -> None:
        super().__init__(message)
        self.vendor_code = vendor_code

    @property
    def cause(self) -> str:
        """A short stable name for events and metrics, e.g. ``gateway_busy``."""
        return _CAUSES[type(self)]


class RetryableLockError(LockError):
    retryable = True


class PermanentLockError(LockError):
    retryable = False


class VendorUnavailable(RetryableLockError):
    pass


class GatewayOffline(VendorUnavailable):
    """The vendor is up and refused the command because the lock cannot be reached through its gateway: nothing was
    applied (an answer, not a lost one), and an offline passcode is the way in meanwhile."""


class CircuitOpen(VendorUnavailable):
    """Raised without calling the vendor; ``reopens_in`` says when the breaker will let a call through again."""

    def __init__(self, message: str, *, reopens_in: float) -> None:
        super().__init__(message, vendor_code="circuit_open")
        self.reopens_in = reopens_in


class RateLimited(RetryableLockError):
    def __init__(self, message: str, *, vendor_code: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, vendor_code=vendor_code)
        self.retry_after = retry_after


class GatewayBusy(RetryableLockError):
    pass


class VendorTimeout(RetryableLockError):
    pass


class CredentialNotFound(PermanentLockError):
    pass


class Unsupported(PermanentLockError):
    pass


class InvalidRequest(PermanentLockError):
    pass


class DuplicateCredential(InvalidRequest):
    pass


class Unauthorized(PermanentLockError):
    pass


_CAUSES: dict[type[LockError], str] = {
    LockError: "lock_error",
    RetryableLockError: "retryable",
    PermanentLockError: "permanent",
    VendorUnavailable: "vendor_unavailable",
    CircuitOpen: "circuit_open",
    GatewayOffline: "gateway_offline",
    RateLimited: "rate_limited",
    GatewayBusy: "gateway_busy",
    VendorTimeout: "vendor_timeout",
    CredentialNotFound: "not_found",
    Unsupported: "unsupported",
    InvalidRequest: "invalid_request",
    DuplicateCredential: "duplicate_credential",
    Unauthorized: "unauthorized",
}
