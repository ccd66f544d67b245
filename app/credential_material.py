"""What a credential carries besides its window, per kind and vendor: the secret part of an :class:`IssueRequest`.

* a passcode: a PIN derived from the credential's idempotency key and attempt (never stored in clear); a master
  passcode is derived from its shift, so staff get one code for every lock of the property;
* a card: a number allocated on the property within the card format's range (H10301 on Wiegand: 1..65535), held
  until the credential's validity ends, so no two guests ever share one; Salto encodes its own cards and needs none;
* a mobile key: the guest's mobile-key account from the PMS event (a phone number or the vendor app's user name),
  which travels sealed with the tenant's key and is opened only here, for the vendor call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from adapters.registry import INSTALLED, Registry
from app.db_retry import until_database_answers
from app.domain.credential import CredentialKind, LockRef, Validity
from app.domain.errors import InvalidRequest
from app.domain.lock_saga import CredentialRecord
from app.security.envelope import KeyStore, SealError, open_sealed, seal
from app.security.pseudonym import passcode_for

UNDATED_HOLD = timedelta(days=366)  # a card without a window (none today) is held this long


class CardNumbers(Protocol):
    async def allocate(self, tenant: str, property_id: str, holder: str, until: datetime, highest: int) -> int: ...

    async def extend(self, tenant: str, property_id: str, holders_prefix: str, until: datetime) -> None: ...


def seal_mobile_account(keys: KeyStore, tenant: str, stay: str, account: str) -> str:
    """The guest's mobile-key account as it travels in stays, commands and saga records: sealed, hex."""
    return seal(keys, tenant, _binding(stay), account.encode()).hex()


@dataclass
class CredentialMaterial:
    keys: KeyStore
    cards: CardNumbers
    registry: Registry = INSTALLED  # each vendor's card number range (``card_number_max``; None: it numbers its own)

    async def secret(self, lock: LockRef, record: CredentialRecord, attempt: int) -> str | None:
        """The secret part of attempt ``attempt`` of issuing ``record`` on ``lock``."""
        if record.kind is CredentialKind.PASSCODE:
            if record.stay.startswith("master:"):
                return passcode_for(self.keys, lock.tenant, record.stay, attempt, digits=8)
            return passcode_for(self.keys, lock.tenant, record.idempotency_key, attempt)
        if record.kind is CredentialKind.CARD:
            highest = self._card_number_max(lock)
            if highest is None:
                return None
            until = record.validity.ends_at if record.validity else datetime.now(UTC) + UNDATED_HOLD
            holder = f"{record.idempotency_key}#{attempt}"
            number = await until_database_answers(
                lambda: self.cards.allocate(lock.tenant, lock.property, holder, until, highest))
            return str(number)
        if record.mobile_account is None:
            return None  # the adapter refuses the issue and names what is missing
        try:
            sealed = bytes.fromhex(record.mobile_account)
            return open_sealed(self.keys, lock.tenant, _binding(record.stay), sealed).decode()
        except (ValueError, SealError) as err:  # not hex, or sealed for another tenant or stay: a permanent refusal
            raise InvalidRequest(f"the mobile-key account of {record.stay} cannot be opened: {err}") from err

    def seal_code(self, lock: LockRef, record: CredentialRecord, code: str) -> str:
        """An offline passcode's digits (the vendor chose them) as they are kept and sent: sealed for the stay."""
        return seal(self.keys, lock.tenant, _code_binding(record.stay), code.encode()).hex()

    def open_code(self, tenant: str, stay: str, sealed: str) -> str:
        """The digits of a sealed offline passcode, for the front desk; InvalidRequest when they cannot be opened."""
        try:
            return open_sealed(self.keys, tenant, _code_binding(stay), bytes.fromhex(sealed)).decode()
        except (ValueError, SealError) as err:
            raise InvalidRequest(f"the offline passcode of {stay} cannot be opened: {err}") from err

    def _card_number_max(self, lock: LockRef) -> int | None:
        return self.registry.spec(lock.vendor).card_number_max

    async def hold(self, lock: LockRef, record: CredentialRecord, validity: Validity) -> None:
        """Before a card's window is moved: hold its number as long as the new window lasts."""
        if record.kind is CredentialKind.CARD and self._card_number_max(lock) is not None:
            holders = f"{record.idempotency_key}#"
            await until_database_answers(
                lambda: self.cards.extend(lock.tenant, lock.property, holders, validity.ends_at))


def _binding(stay: str) -> str:
    return f"mobile_account:{stay}"


def _code_binding(stay: str) -> str:
    return f"offline_code:{stay}"
