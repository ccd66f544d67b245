"""The LockPort contract, operations: every vendor adapter, talking to its real sandbox, issues, lists, updates and
revokes the same canonical way.

A test skips only where a vendor honestly lacks what it needs, and says which capability; the capability tests at
the top assert that each missing capability is refused (``Unsupported``) or reported, never silently faked.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from app.domain.credential import CredentialKind, Validity
from app.domain.errors import CredentialNotFound, InvalidRequest, Unsupported
from app.domain.lock_port import LockPort
from tests.contract.requests import ALL_KINDS, BERLIN, issue_request, remote_update, stay, supported

if TYPE_CHECKING:
    from tests.contract.harness import VendorHarness


async def test_adapter_is_a_lock_port_with_honest_capabilities(vendor_port: VendorHarness) -> None:
    assert isinstance(vendor_port.port, LockPort)
    assert vendor_port.port.capabilities == vendor_port.expected_capabilities


async def test_every_missing_capability_is_refused_or_reported(vendor_port: VendorHarness) -> None:
    caps, lock = vendor_port.port.capabilities, vendor_port.lock(0)
    for kind in sorted(set(CredentialKind) - caps.kinds):
        with pytest.raises(Unsupported):
            await vendor_port.port.issue(issue_request(vendor_port, kind, lock))
    issued = await vendor_port.port.issue(issue_request(vendor_port, None, lock))
    if not caps.remote_update:
        with pytest.raises(Unsupported):
            await vendor_port.port.update_validity(lock, issued.vendor_ref, stay(nights=5))
        assert [c.validity for c in await vendor_port.sandbox_credentials(lock)] == [issued.validity]
    if not caps.remote_revoke:
        await vendor_port.port.revoke(lock, issued.vendor_ref)
        # Revoked, but the offline lock still opens for it until a later card or its expiry tells it otherwise.
        [card] = await vendor_port.sandbox_credentials(lock, include_cloud_only=True)
        assert (card.label, card.on_lock, card.revocation_pending) == (issued.label, True, True)
        assert await vendor_port.port.list_credentials(lock) == []
    if not caps.lists_credentials:
        with pytest.raises(Unsupported):
            await vendor_port.port.list_credentials(lock)


@ALL_KINDS
async def test_issue_puts_the_credential_on_the_lock_with_label_and_validity(
    vendor_port: VendorHarness, kind: CredentialKind
) -> None:
    supported(vendor_port, kind)
    request = issue_request(vendor_port, kind, vendor_port.lock(0))

    issued = await vendor_port.port.issue(request)

    assert (issued.kind, issued.label, issued.validity) == (kind, request.label, request.validity)
    on_lock = await vendor_port.sandbox_credentials(vendor_port.lock(0))
    assert [(c.kind, c.label, c.validity, c.on_lock) for c in on_lock] == [
        (kind, request.label, request.validity, True)
    ]


async def test_list_credentials_returns_every_issued_credential_with_label_and_validity(
    vendor_port: VendorHarness,
) -> None:
    lock = vendor_port.lock(0)
    issued = [
        await vendor_port.port.issue(issue_request(vendor_port, k, lock)) for k in vendor_port.port.capabilities.kinds
    ]

    listed = await vendor_port.port.list_credentials(lock)

    assert sorted(listed, key=lambda c: c.vendor_ref) == sorted(issued, key=lambda c: c.vendor_ref)
    assert await vendor_port.port.list_credentials(vendor_port.lock(2)) == []


@ALL_KINDS
async def test_update_validity_moves_the_window_on_the_lock(vendor_port: VendorHarness, kind: CredentialKind) -> None:
    supported(vendor_port, kind)
    remote_update(vendor_port)
    lock = vendor_port.lock(0)
    issued = await vendor_port.port.issue(issue_request(vendor_port, kind, lock))
    extended = stay(nights=5)

    await vendor_port.port.update_validity(lock, issued.vendor_ref, extended)

    assert [c.validity for c in await vendor_port.sandbox_credentials(lock)] == [extended]
    assert [c.validity for c in await vendor_port.port.list_credentials(lock)] == [extended]


@ALL_KINDS
async def test_revoke_removes_the_credential_from_the_lock(vendor_port: VendorHarness, kind: CredentialKind) -> None:
    supported(vendor_port, kind)
    lock = vendor_port.lock(0)
    kept = await vendor_port.port.issue(issue_request(vendor_port, kind, lock))
    revoked = await vendor_port.port.issue(issue_request(vendor_port, kind, lock))

    await vendor_port.port.revoke(lock, revoked.vendor_ref)

    stored = await vendor_port.sandbox_credentials(lock, include_cloud_only=True)
    if vendor_port.port.capabilities.remote_revoke:
        assert [c.label for c in stored] == [kept.label]
    else:  # blocklisted: pending until the lock learns it, as the capability says
        assert {(c.label, c.revocation_pending) for c in stored} == {(kept.label, False), (revoked.label, True)}
    assert [c.vendor_ref for c in await vendor_port.port.list_credentials(lock)] == [kept.vendor_ref]


@ALL_KINDS
async def test_revoking_a_credential_that_is_already_gone_raises_credential_not_found(
    vendor_port: VendorHarness, kind: CredentialKind
) -> None:
    supported(vendor_port, kind)
    lock = vendor_port.lock(0)
    issued = await vendor_port.port.issue(issue_request(vendor_port, kind, lock))
    await vendor_port.port.revoke(lock, issued.vendor_ref)

    with pytest.raises(CredentialNotFound):
        await vendor_port.port.revoke(lock, issued.vendor_ref)


async def test_updating_a_credential_that_is_gone_raises_credential_not_found(vendor_port: VendorHarness) -> None:
    remote_update(vendor_port)
    lock = vendor_port.lock(0)
    issued = await vendor_port.port.issue(issue_request(vendor_port, None, lock))
    await vendor_port.port.revoke(lock, issued.vendor_ref)

    with pytest.raises(CredentialNotFound):
        await vendor_port.port.update_validity(lock, issued.vendor_ref, stay(nights=3))


# Check-in in winter time (+01:00), check-out after the switch to summer time (+02:00), odd seconds on both ends.
WINTER_TO_SUMMER = Validity(
    starts_at=datetime(2031, 3, 28, 15, 0, 17, tzinfo=BERLIN), ends_at=datetime(2031, 4, 2, 11, 0, 43, tzinfo=BERLIN)
)
SUMMER_TO_WINTER = Validity(
    starts_at=datetime(2031, 10, 24, 14, 59, 59, tzinfo=BERLIN),
    ends_at=datetime(2031, 10, 27, 10, 30, 1, tzinfo=BERLIN),
)


async def test_validity_in_berlin_time_round_trips_to_the_second_across_dst(vendor_port: VendorHarness) -> None:
    lock = vendor_port.lock(0)
    await vendor_port.port.issue(issue_request(vendor_port, None, lock, WINTER_TO_SUMMER))

    [listed] = await vendor_port.port.list_credentials(lock)
    [stored] = await vendor_port.sandbox_credentials(lock)
    assert listed.validity == stored.validity == WINTER_TO_SUMMER
    assert listed.validity is not None
    assert listed.validity.starts_at.astimezone(BERLIN).isoformat() == "2031-03-28T15:00:17+01:00"
    assert listed.validity.ends_at.astimezone(BERLIN).isoformat() == "2031-04-02T11:00:43+02:00"


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/New_York"])
async def test_a_validity_given_in_another_time_zone_is_stored_as_the_same_instants(
    vendor_port: VendorHarness, zone: str
) -> None:
    lock, elsewhere = vendor_port.lock(0), ZoneInfo(zone)
    given = Validity(
        starts_at=WINTER_TO_SUMMER.starts_at.astimezone(elsewhere),
        ends_at=WINTER_TO_SUMMER.ends_at.astimezone(elsewhere),
    )

    await vendor_port.port.issue(issue_request(vendor_port, None, lock, given))

    [stored] = await vendor_port.sandbox_credentials(lock)
    assert stored.validity == WINTER_TO_SUMMER


async def test_an_update_across_the_end_of_summer_time_round_trips_to_the_second(vendor_port: VendorHarness) -> None:
    remote_update(vendor_port)
    lock = vendor_port.lock(0)
    issued = await vendor_port.port.issue(issue_request(vendor_port, None, lock, WINTER_TO_SUMMER))

    await vendor_port.port.update_validity(lock, issued.vendor_ref, SUMMER_TO_WINTER)

    [updated] = await vendor_port.port.list_credentials(lock)
    [stored] = await vendor_port.sandbox_credentials(lock)
    assert updated.validity == stored.validity == SUMMER_TO_WINTER


async def test_issuing_on_an_unknown_lock_raises_credential_not_found(vendor_port: VendorHarness) -> None:
    assert vendor_port.unknown_lock is not None, "every vendor of the suite can tell an unknown lock"
    with pytest.raises(CredentialNotFound):
        await vendor_port.port.issue(issue_request(vendor_port, None, vendor_port.unknown_lock))


async def test_a_duplicate_passcode_on_the_same_lock_is_an_invalid_request(vendor_port: VendorHarness) -> None:
    supported(vendor_port, CredentialKind.PASSCODE)
    lock = vendor_port.lock(0)
    first = issue_request(vendor_port, CredentialKind.PASSCODE, lock)
    await vendor_port.port.issue(first)

    with pytest.raises(InvalidRequest):
        await vendor_port.port.issue(issue_request(vendor_port, CredentialKind.PASSCODE, lock, secret=first.secret))
    # The same PIN on another lock is a different credential and is accepted.
    await vendor_port.port.issue(
        issue_request(vendor_port, CredentialKind.PASSCODE, vendor_port.lock(2), secret=first.secret)
    )


@pytest.mark.parametrize("pin", [None, "", "123", "1234567890", "12a4", " 1234"])
async def test_a_passcode_without_a_pin_of_4_to_9_digits_is_refused_before_calling_the_vendor(
    vendor_port: VendorHarness, pin: str | None
) -> None:
    supported(vendor_port, CredentialKind.PASSCODE)
    with pytest.raises(InvalidRequest):
        await vendor_port.port.issue(
            issue_request(vendor_port, CredentialKind.PASSCODE, vendor_port.lock(0), secret=pin)
        )
    assert await vendor_port.sandbox_credentials(vendor_port.lock(0), include_cloud_only=True) == []


async def test_the_passcode_limit_refuses_one_more_and_listing_pages_through_all(vendor_port: VendorHarness) -> None:
    limit = vendor_port.passcode_limit
    if limit is None:
        pytest.skip(f"{vendor_port.vendor} lacks a per-lock passcode limit")
    lock = vendor_port.lock(0)
    for _ in range(limit):
        await vendor_port.port.issue(issue_request(vendor_port, CredentialKind.PASSCODE, lock))

    with pytest.raises(InvalidRequest):
        await vendor_port.port.issue(issue_request(vendor_port, CredentialKind.PASSCODE, lock))
    assert len(await vendor_port.port.list_credentials(lock)) == limit
