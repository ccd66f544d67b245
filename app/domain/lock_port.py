"""LockPort: the canonical operations every vendor adapter implements.

Adapters raise only the canonical errors of :mod:`app.domain.errors`. The honest fakes are the vendor sandboxes in
``adapters/<vendor>/sandbox.py``: real servers speaking the vendor's wire format, so the adapter code runs in tests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from app.domain.credential import Capabilities, IssuedCredential, IssueRequest, LockRef, LockStatus, Validity
from app.domain.unlocks import LockUnlock


@runtime_checkable
class LockPort(Protocol):
    @property
    def capabilities(self) -> Capabilities: ...

    async def issue(self, request: IssueRequest) -> IssuedCredential:
        """Put a credential on the lock; returns the vendor's reference to it."""
        ...

    async def issue_offline(self, request: IssueRequest) -> IssuedCredential:
        """An offline passcode for ``request.validity`` (whole hours), which the lock checks without its gateway; the
        vendor picks the digits (``IssuedCredential.code``). Unsupported where ``capabilities.offline_passcodes`` is
        False."""
        ...

    async def revoke(self, lock: LockRef, vendor_ref: str) -> None:
        """Remove a credential. Removing one that is already gone raises CredentialNotFound."""
        ...

    async def update_validity(self, lock: LockRef, vendor_ref: str, validity: Validity) -> None:
        """Change when an existing credential opens the door."""
        ...

    async def lock_status(self, lock: LockRef) -> LockStatus: ...

    async def list_credentials(self, lock: LockRef) -> list[IssuedCredential]:
        """Every credential the vendor holds for this lock; used to reconcile after a crash."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class UnlockLog(Protocol):
    """A vendor whose locks upload their unlock records (TTLock): who typed which code, when."""

    async def unlocks(self, lock: LockRef, start: datetime, end: datetime) -> list[LockUnlock]:
        """The lock's keypad attempts recorded with a time in [start, end]."""
        ...
