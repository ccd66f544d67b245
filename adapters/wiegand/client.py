"""The Generic Wiegand adapter: the canonical LockPort over a serial card encoder.

A credential is a 26-bit H10301 card (the site's facility code and a card number) written by the encoder that
serves the lock (``LockRef.gateway_id`` names it) with a validity window, the lock's zone and our label. The locks
are offline: they learn nothing after a card is written. So this adapter says honestly what it cannot do:

* ``remote_update=False`` — a card's validity is on the card; changing it means encoding the card again.
* ``remote_revoke=False`` — :meth:`revoke` puts the card on the encoder's blocklist, which the encoder writes onto
  the next cards; a lock refuses the revoked card once such a card has been used on it, or when it expires.

Listing reads the encoder's journal of live cards per zone: the only place that knows what was written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from adapters.wiegand import mapping
from adapters.wiegand.link import EncoderLink
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
    DuplicateCredential,
    GatewayBusy,
    InvalidRequest,
    Unsupported,
    VendorTimeout,
    VendorUnavailable,
)

log = logging.getLogger(__name__)
_CAPABILITIES = Capabilities(
    kinds=frozenset({CredentialKind.CARD}), remote_revoke=False, remote_update=False, lists_credentials=True
)


class WiegandConfig(BaseModel):
    """The site's facility code and its encoders: gateway id (as in the lock directory) -> serial port."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    encoders: dict[str, str] = Field(min_length=1)  # e.g. {"front-desk": "/dev/serial/by-id/usb-…"}
    facility_code: int = Field(ge=0, le=mapping.FACILITY_MAX)
    timeout_s: float = 2.0
    baudrate: int = 9600


@dataclass(frozen=True)
class EncodedCard:
    """The card lying on an encoder, as read back: raw bits (parity included), validity, zones, label, blocklist."""

    raw: int
    validity: Validity
    zones: tuple[str, ...]
    label: str
    blocklist: tuple[int, ...]  # 24 data bits of each card this one tells locks to refuse


class WiegandClient:
    """LockPort for Generic Wiegand card encoders."""

    def __init__(self, config: WiegandConfig, *, card_key: bytes, clock: Callable[[], float] = time.time) -> None:
        """``card_key``: the tenant's card-token key (``KeyPurpose.CARD_TOKEN``), which makes and opens the refs."""
        self._config = config
        self._refs = mapping.CardRefs(card_key)
        self._clock = clock
        self._links = {
            name: EncoderLink(port, timeout_s=config.timeout_s, baudrate=config.baudrate)
            for name, port in config.encoders.items()
        }

    @property
    def capabilities(self) -> Capabilities:
        """Cards only; no remote revoke or update (offline locks); listing from the encoder's journal."""
        return _CAPABILITIES

    async def issue(self, request: IssueRequest) -> IssuedCredential:
        """Encode a card for the lock's zone; a card this label already got (an earlier attempt) is adopted."""
        if request.kind is not CredentialKind.CARD:
            raise Unsupported(f"a Wiegand encoder writes cards, not {request.kind}")
        try:
            card = mapping.card_number(request.secret)
            zone = mapping.check_name(request.lock.vendor_lock_id, "zone")
            label = mapping.check_name(request.label, "label")
            start, end = mapping.validity_to_wire(request.validity)
        except ValueError as err:
            raise InvalidRequest(str(err)) from err
        facility = self._config.facility_code
        link = self._link(request.lock)
        issued = IssuedCredential(
            vendor_ref=self._refs.encode(facility, card),
            kind=CredentialKind.CARD,
            label=label,
            validity=request.validity,
        )
        try:
            reply = await link.exchange("EN", mapping.to_hex6(facility, card), start, end, zone, label)
        except DuplicateCredential:
            # The number is live: ours if an earlier attempt of this issue wrote it (its answer was lost).
            if any(c == issued for c in await self._journal(link, zone)):
                return issued
            raise
        try:  # the encoder answers the 26 bits it wrote: check them before handing the card to a guest
            written = mapping.decode_h10301(int(reply[0], 16))
        except (IndexError, ValueError) as err:
            raise VendorUnavailable(f"encoder on {link.port} confirmed unreadable bits {reply[:1]}") from err
        if written != (facility, card):
            raise VendorUnavailable(f"encoder on {link.port} wrote card {written}, not {(facility, card)}")
        return issued

    async def issue_offline(self, request: IssueRequest) -> IssuedCredential:
        """Wiegand has no offline passcodes (``capabilities.offline_passcodes`` is False): a saga waits instead."""
        raise Unsupported("Wiegand cannot give a passcode that works without its gateway")

    async def revoke(self, lock: LockRef, vendor_ref: str) -> None:
        """Blocklist the card. It keeps opening the lock until a later card carries the blocklist there, or it
        expires: the lock is offline (``remote_revoke=False``)."""
        facility, card = self._card_of(vendor_ref)
        await self._link(lock).exchange("BL", mapping.to_hex6(facility, card))
        log.warning(
            "card %s blocklisted; lock %s refuses it only after a newer card was used there, or when it expires",
            vendor_ref,
            lock.lock_id,
        )

    async def update_validity(self, lock: LockRef, vendor_ref: str, validity: Validity) -> None:
        """Not possible: the validity is written on the card (``remote_update=False``)."""
        raise Unsupported("a Wiegand card's validity is on the card: encode a new card at the desk")

    async def lock_status(self, lock: LockRef) -> LockStatus:
        """Online when the lock's encoder answers, i.e. cards for it can be written now; offline locks report no
        battery."""
        try:
            await self._link(lock).exchange("ST")
            online = True
        except GatewayBusy:
            online = True  # there, writing another card
        except (VendorUnavailable, VendorTimeout):
            online = False
        return LockStatus(online=online, battery_percent=None, checked_at=datetime.fromtimestamp(self._clock(), UTC))

    async def list_credentials(self, lock: LockRef) -> list[IssuedCredential]:
        """Every live (not blocklisted) card the encoder's journal holds for the lock's zone."""
        try:
            zone = mapping.check_name(lock.vendor_lock_id, "zone")
        except ValueError as err:
            raise InvalidRequest(str(err)) from err
        return await self._journal(self._link(lock), zone)

    async def read_back(self, lock: LockRef) -> EncodedCard:
        """Read the card lying on the lock's encoder, to check what was written before it goes to a guest."""
        link = self._link(lock)
        reply = await link.exchange("RD")
        try:
            raw, start, end, zones, label, blocklist = reply
            return EncodedCard(
                raw=int(raw, 16),
                validity=Validity(starts_at=mapping.from_wire_time(start), ends_at=mapping.from_wire_time(end)),
                zones=tuple(zones.split("+")),
                label=label,
                blocklist=tuple(int(data, 16) for data in blocklist.split("+") if data),
            )
        except ValueError as err:
            raise VendorUnavailable(f"encoder on {link.port} read back an unreadable card: {reply}") from err

    async def aclose(self) -> None:
        """Close every encoder's port."""
        for link in self._links.values():
            await link.aclose()

    async def __aenter__(self) -> WiegandClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _card_of(self, vendor_ref: str) -> tuple[int, int]:
        try:
            return self._refs.decode(vendor_ref)
        except ValueError as err:
            raise InvalidRequest(str(err)) from err

    def _link(self, lock: LockRef) -> EncoderLink:
        link = self._links.get(lock.gateway_id or "")
        if link is None:
            raise VendorUnavailable(f"no encoder {lock.gateway_id!r} is attached for lock {lock.lock_id}")
        return link

    async def _journal(self, link: EncoderLink, zone: str) -> list[IssuedCredential]:
        """The zone's journal, page by page."""
        found: list[IssuedCredential] = []
        while True:
            reply = await link.exchange("LS", zone, str(len(found)))
            try:
                total, entries = int(reply[0]), [e for e in reply[1].split(";") if e]
                found += [mapping.credential_from_journal(entry, self._refs) for entry in entries]
            except (IndexError, ValueError) as err:
                raise VendorUnavailable(f"encoder on {link.port} answered an unreadable journal") from err
            if len(found) >= total or not entries:
                return found
