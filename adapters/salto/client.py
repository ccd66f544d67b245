"""The Salto adapter: the canonical LockPort over the Salto Space cloud API.

A credential is one Salto user whose ``extUserId`` is our label (the idempotency key), with one access right (the
lock's access point) and one key: a PIN code, a mobile key sent to the guest's phone, or a card encoded on the
site's encoder. Issuing is several calls; each is idempotent and a user that already exists under our label is
adopted, so an issue retried after a timeout or a crash completes the first attempt instead of adding a second user.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from adapters.salto import errors, mapping
from adapters.salto.session import SaltoConfig, SaltoSession
from app.domain.credential import (
    Capabilities,
    CredentialKind,
    IssuedCredential,
    IssueRequest,
    LockRef,
    LockStatus,
    Validity,
)
from app.domain.errors import DuplicateCredential, InvalidRequest, Unsupported, VendorUnavailable

_PAGE_SIZE = 50
_CAPABILITIES = Capabilities(
    kinds=frozenset(CredentialKind), remote_revoke=True, remote_update=True, lists_credentials=True
)

__all__ = ["SaltoClient", "SaltoConfig"]


class SaltoClient:
    """LockPort for Salto Space."""

    def __init__(
        self, config: SaltoConfig, *, http: httpx.AsyncClient | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self._config = config
        self._site = ZoneInfo(config.site_timezone)
        self._session = SaltoSession(config, http=http, clock=clock)
        self._clock = clock

    @property
    def capabilities(self) -> Capabilities:
        """PIN codes, mobile keys and cards; online access points take revokes and updates; users are listable."""
        return _CAPABILITIES

    async def issue(self, request: IssueRequest) -> IssuedCredential:
        """Create (or adopt) the user named by the label, give it the key and the access right to the lock."""
        access_point = request.lock.vendor_lock_id
        try:  # refuse a bad PIN, phone or missing encoder before anything reaches Salto
            pin = mapping.check_pin(request.secret) if request.kind is CredentialKind.PASSCODE else None
            body = mapping.user_body(request, self._site)
        except ValueError as err:
            raise InvalidRequest(str(err)) from err
        if request.kind is CredentialKind.CARD and self._config.encoder_id is None:
            raise InvalidRequest("issuing Salto cards needs encoder_id in the Salto account configuration")
        user = await self._ensure_user(body)
        user_id = str(user["id"])
        if pin is not None:
            # The PIN travels to the door with the access right, which is also where a clash is found (409).
            await self._session.call("PUT", f"/api/v1/users/{user_id}/pincode", body={"pinCode": pin})
        if access_point not in (user.get("accessPointIds") or []):
            await self._session.call(
                "POST", f"/api/v1/users/{user_id}/accessrights", body={"accessPointId": access_point}
            )
        if request.kind is CredentialKind.MOBILE_KEY and user.get("mobileKeyStatus") != mapping.MOBILE_KEY_ASSIGNED:
            await self._session.call("POST", f"/api/v1/users/{user_id}/mobilekey/assign", body={})
        if request.kind is CredentialKind.CARD and not user.get("cardSerial"):
            # An adopted user that already has a card keeps it: encoding again would make a second card.
            await self._session.call(
                "POST", f"/api/v1/encoders/{self._config.encoder_id}/encode", body={"userId": user_id}
            )
        return IssuedCredential(
            vendor_ref=mapping.encode_ref(request.kind, user_id),
            kind=request.kind,
            label=request.label,
            validity=request.validity,
        )

    async def issue_offline(self, request: IssueRequest) -> IssuedCredential:
        """Salto has no offline passcodes (``capabilities.offline_passcodes`` is False): a saga waits instead."""
        raise Unsupported("Salto cannot give a passcode that works without its gateway")

    async def revoke(self, lock: LockRef, vendor_ref: str) -> None:
        """Cancel the user's mobile key (if any) and delete the user: the door and the phone both forget it."""
        kind, user_id = _decode(vendor_ref)
        if kind is CredentialKind.MOBILE_KEY:
            await self._session.call("POST", f"/api/v1/users/{user_id}/mobilekey/cancel", body={})
        await self._session.call("DELETE", f"/api/v1/users/{user_id}")

    async def update_validity(self, lock: LockRef, vendor_ref: str, validity: Validity) -> None:
        """Move the user's activation and expiration (site time); the door learns it through its gateway."""
        _, user_id = _decode(vendor_ref)
        await self._session.call("PUT", f"/api/v1/users/{user_id}", body=mapping.validity_to_wire(validity, self._site))

    async def lock_status(self, lock: LockRef) -> LockStatus:
        """Online when the access point's gateway reaches it; battery as the access point last reported it."""
        point = await self._session.call("GET", f"/api/v1/accesspoints/{lock.vendor_lock_id}")
        if not isinstance(point, dict):
            raise errors.malformed_body("access point answer without data")
        battery = point.get("batteryLevel")
        return LockStatus(
            online=point.get("isOnline") is True,
            battery_percent=battery if isinstance(battery, int) and 0 <= battery <= 100 else None,
            checked_at=datetime.fromtimestamp(self._clock(), UTC),
        )

    async def list_credentials(self, lock: LockRef) -> list[IssuedCredential]:
        """Every user with an access right to the lock's access point that carries a key."""
        users = await self._users({"accessPointId": lock.vendor_lock_id})
        found = (mapping.credential_from_user(user, self._site) for user in users)
        return [credential for credential in found if credential is not None]

    async def aclose(self) -> None:
        """Close the HTTP session."""
        await self._session.aclose()

    async def __aenter__(self) -> SaltoClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _ensure_user(self, body: dict[str, Any]) -> dict[str, Any]:
        """The user named ``extUserId``: created now, or adopted when an earlier attempt already created it."""
        try:
            created = await self._session.call("POST", "/api/v1/users", body=body)
        except DuplicateCredential:
            # On this endpoint 409 means the extUserId exists: an earlier attempt of this very issue got through.
            found = await self._users({"extUserId": body["extUserId"]})
            if not found:
                # Salto's lists may trail its writes for a moment: worth a retry, not a permanent failure.
                raise VendorUnavailable("Salto reported the user as existing but does not list it yet") from None
            return found[0]
        if not isinstance(created, dict) or "id" not in created:
            raise errors.malformed_body("user answer without id")
        return created

    async def _users(self, filters: dict[str, str]) -> list[dict[str, Any]]:
        """``GET /api/v1/users/Filtered`` page by page."""
        users: list[dict[str, Any]] = []
        starting_from: str | None = None
        while True:
            params: dict[str, Any] = {**filters, "maxCount": _PAGE_SIZE}
            if starting_from is not None:
                params["startingFrom"] = starting_from
            page = await self._session.call("GET", "/api/v1/users/Filtered", params=params)
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                raise errors.malformed_body("user list without items")
            users += page["items"]
            starting_from = page.get("nextStartingFrom")
            if not starting_from:
                return users


def _decode(vendor_ref: str) -> tuple[CredentialKind, str]:
    try:
        return mapping.decode_ref(vendor_ref)
    except ValueError as err:
        raise InvalidRequest(str(err)) from err
