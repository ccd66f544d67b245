"""The LockPort contract: every vendor adapter, talking HTTP to its real sandbox, behaves the same canonical way."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import httpx
import pytest

from app.domain.credential import CredentialKind, IssueRequest, LockRef, Validity, Vendor, credential_label
from app.domain.errors import (
    CredentialNotFound,
    GatewayBusy,
    InvalidRequest,
    LockError,
    RateLimited,
    Unauthorized,
    Unsupported,
    VendorTimeout,
    VendorUnavailable,
)
from app.domain.lock_port import LockPort

if TYPE_CHECKING:
    from tests.contract.conftest import VendorHarness

BERLIN = ZoneInfo("Europe/Berlin")
_stays = itertools.count(1)


def stay(start: datetime | None = None, nights: int = 2) -> Validity:
    """A stay window; by default a Berlin check-in at 15:00 and check-out at 11:00."""
    starts_at = start or datetime(2031, 5, 4, 15, 0, tzinfo=BERLIN)
    ends_at = (starts_at + timedelta(days=nights)).replace(hour=11, minute=0)
    return Validity(starts_at=starts_at, ends_at=ends_at)


def issue_request(
    h: VendorHarness, kind: CredentialKind, lock: LockRef, validity: Validity | None = None, **changes: object
) -> IssueRequest:
    fields: dict[str, object] = {
        "lock": lock,
        "kind": kind,
        "validity": validity or stay(),
        "label": credential_label(f"stay-{next(_stays)}/{kind}"),
        "secret": h.secret(kind),
    }
    return IssueRequest.model_validate(fields | changes)


def supported(h: VendorHarness, kind: CredentialKind) -> None:
    if kind not in h.port.capabilities.kinds:
        pytest.skip(f"{h.vendor} does not issue {kind}")


ALL_KINDS = pytest.mark.parametrize("kind", list(CredentialKind))


async def test_adapter_is_a_lock_port_with_honest_capabilities(vendor_port: VendorHarness) -> None:
    assert isinstance(vendor_port.port, LockPort)
    assert vendor_port.port.capabilities == vendor_port.expected_capabilities


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

    assert [c.label for c in await vendor_port.sandbox_credentials(lock, include_cloud_only=True)] == [kept.label]
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
    lock = vendor_port.lock(0)
    issued = await vendor_port.port.issue(issue_request(vendor_port, CredentialKind.PASSCODE, lock))
    await vendor_port.port.revoke(lock, issued.vendor_ref)

    with pytest.raises(CredentialNotFound):
        await vendor_port.port.update_validity(lock, issued.vendor_ref, stay(nights=3))


async def test_validity_in_berlin_time_round_trips_to_the_second_across_dst(vendor_port: VendorHarness) -> None:
    lock = vendor_port.lock(0)
    # Check-in in winter time (+01:00), check-out after the switch to summer time (+02:00), odd seconds on both ends.
    winter_to_summer = Validity(
        starts_at=datetime(2031, 3, 28, 15, 0, 17, tzinfo=BERLIN),
        ends_at=datetime(2031, 4, 2, 11, 0, 43, tzinfo=BERLIN),
    )
    summer_to_winter = Validity(
        starts_at=datetime(2031, 10, 24, 14, 59, 59, tzinfo=BERLIN),
        ends_at=datetime(2031, 10, 27, 10, 30, 1, tzinfo=BERLIN),
    )
    issued = await vendor_port.port.issue(issue_request(vendor_port, CredentialKind.PASSCODE, lock, winter_to_summer))

    [listed] = await vendor_port.port.list_credentials(lock)
    assert listed.validity == winter_to_summer
    assert listed.validity is not None
    assert listed.validity.starts_at.astimezone(BERLIN).isoformat() == "2031-03-28T15:00:17+01:00"
    assert listed.validity.ends_at.astimezone(BERLIN).isoformat() == "2031-04-02T11:00:43+02:00"

    await vendor_port.port.update_validity(lock, issued.vendor_ref, summer_to_winter)
    [updated] = await vendor_port.port.list_credentials(lock)
    assert updated.validity == summer_to_winter


async def test_issuing_on_an_unknown_lock_raises_credential_not_found(vendor_port: VendorHarness) -> None:
    if vendor_port.unknown_lock is None:
        pytest.skip(f"{vendor_port.vendor} cannot tell an unknown lock")
    with pytest.raises(CredentialNotFound):
        await vendor_port.port.issue(issue_request(vendor_port, CredentialKind.PASSCODE, vendor_port.unknown_lock))


async def test_a_duplicate_passcode_on_the_same_lock_is_an_invalid_request(vendor_port: VendorHarness) -> None:
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
    with pytest.raises(InvalidRequest):
        await vendor_port.port.issue(
            issue_request(vendor_port, CredentialKind.PASSCODE, vendor_port.lock(0), secret=pin)
        )
    assert await vendor_port.sandbox_credentials(vendor_port.lock(0), include_cloud_only=True) == []


async def test_the_passcode_limit_refuses_one_more_and_listing_pages_through_all(vendor_port: VendorHarness) -> None:
    limit = vendor_port.passcode_limit
    if limit is None:
        pytest.skip(f"{vendor_port.vendor} has no passcode limit")
    lock = vendor_port.lock(0)
    for _ in range(limit):
        await vendor_port.port.issue(issue_request(vendor_port, CredentialKind.PASSCODE, lock))

    with pytest.raises(InvalidRequest):
        await vendor_port.port.issue(issue_request(vendor_port, CredentialKind.PASSCODE, lock))
    assert len(await vendor_port.port.list_credentials(lock)) == limit


async def test_lock_status_reports_an_online_lock_with_its_battery(vendor_port: VendorHarness) -> None:
    before = time.time()
    status = await vendor_port.port.lock_status(vendor_port.lock(0))

    assert status.online
    assert status.battery_percent is not None
    assert 0 <= status.battery_percent <= 100
    assert status.checked_at.timestamp() >= before - 1


async def test_lock_status_reports_offline_when_the_gateway_is_offline(vendor_port: VendorHarness) -> None:
    await vendor_port.take_gateway_offline(vendor_port.lock(2))

    assert not (await vendor_port.port.lock_status(vendor_port.lock(2))).online
    assert (await vendor_port.port.lock_status(vendor_port.lock(0))).online


async def test_issuing_through_an_offline_gateway_raises_vendor_unavailable(vendor_port: VendorHarness) -> None:
    await vendor_port.take_gateway_offline(vendor_port.lock(2))

    with pytest.raises(VendorUnavailable):
        await vendor_port.port.issue(issue_request(vendor_port, CredentialKind.PASSCODE, vendor_port.lock(2)))


async def test_a_passcode_for_a_lock_without_a_gateway_raises_vendor_unavailable(vendor_port: VendorHarness) -> None:
    if vendor_port.lock_without_gateway is None:
        pytest.skip(f"{vendor_port.vendor} has no gateways")
    lock = vendor_port.lock_without_gateway

    with pytest.raises(VendorUnavailable):
        await vendor_port.port.issue(issue_request(vendor_port, CredentialKind.PASSCODE, lock))
    assert not (await vendor_port.port.lock_status(lock)).online


async def test_a_card_on_a_lock_without_card_support_raises_unsupported(vendor_port: VendorHarness) -> None:
    if vendor_port.lock_without_cards is None:
        pytest.skip(f"{vendor_port.vendor} has no lock without card support")
    with pytest.raises(Unsupported):
        await vendor_port.port.issue(issue_request(vendor_port, CredentialKind.CARD, vendor_port.lock_without_cards))


async def test_an_access_token_expiring_mid_run_is_refreshed_transparently(vendor_port: VendorHarness) -> None:
    lock = vendor_port.lock(0)
    await vendor_port.port.issue(issue_request(vendor_port, CredentialKind.PASSCODE, lock))
    await vendor_port.inject("token_expired", count=1)

    await vendor_port.port.issue(issue_request(vendor_port, CredentialKind.PASSCODE, lock))

    assert len(await vendor_port.sandbox_credentials(lock)) == 2
    stats = await vendor_port.stats()
    assert stats["faultsFired"] == {"token_expired": 1}


async def test_wrong_account_credentials_raise_unauthorized(vendor_port: VendorHarness) -> None:
    port = vendor_port.make_port(password="not-the-password")

    with pytest.raises(Unauthorized):
        await port.list_credentials(vendor_port.lock(0))


FAULTS = [
    ("http_5xx", VendorUnavailable),
    ("rate_limit", RateLimited),
    ("gateway_busy", GatewayBusy),
    ("gateway_offline", VendorUnavailable),
    ("malformed", VendorUnavailable),
    ("duplicate", InvalidRequest),
]


@pytest.mark.parametrize(("mode", "expected"), FAULTS, ids=[mode for mode, _ in FAULTS])
async def test_an_injected_fault_maps_to_its_canonical_error(
    vendor_port: VendorHarness, mode: str, expected: type[LockError]
) -> None:
    lock = vendor_port.lock(0)
    await vendor_port.port.list_credentials(lock)  # the token is fetched before the fault is armed
    await vendor_port.inject(mode, count=1)
    request = issue_request(vendor_port, CredentialKind.PASSCODE, lock)

    with pytest.raises(expected) as caught:
        await vendor_port.port.issue(request)

    assert type(caught.value) is expected
    assert caught.value.__cause__ is not None, "the vendor's own failure stays chained for operators"
    if caught.value.retryable:  # the fault has passed: the very same call now succeeds
        assert (await vendor_port.port.issue(request)).label == request.label


async def test_a_vendor_slower_than_the_client_timeout_raises_vendor_timeout(vendor_port: VendorHarness) -> None:
    port = vendor_port.make_port(timeout_s=0.2)
    await port.list_credentials(vendor_port.lock(0))
    await vendor_port.inject("timeout", count=1, latency_ms=2_000)

    with pytest.raises(VendorTimeout):
        await port.issue(issue_request(vendor_port, CredentialKind.PASSCODE, vendor_port.lock(0)))


async def test_latency_below_the_client_timeout_only_slows_the_call(vendor_port: VendorHarness) -> None:
    await vendor_port.inject("latency", latency_ms=50)
    started = time.monotonic()

    await vendor_port.port.issue(issue_request(vendor_port, CredentialKind.PASSCODE, vendor_port.lock(0)))

    assert time.monotonic() - started >= 0.05


async def test_concurrent_commands_on_one_gateway_collide_with_gateway_busy(vendor_port: VendorHarness) -> None:
    shared = [vendor_port.lock(0), vendor_port.lock(1)]  # both behind the same gateway
    await vendor_port.port.list_credentials(shared[0])
    requests = [issue_request(vendor_port, CredentialKind.PASSCODE, shared[i % 2]) for i in range(6)]

    outcomes = await asyncio.gather(*(vendor_port.port.issue(r) for r in requests), return_exceptions=True)

    busy = [o for o in outcomes if isinstance(o, GatewayBusy)]
    failed_otherwise = [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, GatewayBusy)]
    assert busy, "six simultaneous commands on one gateway must not all get through"
    assert len(busy) < len(outcomes), "the gateway still executes one command at a time"
    assert failed_otherwise == []
    assert (await vendor_port.stats())["gatewayBusyRejections"] == len(busy)


async def test_concurrent_commands_on_different_gateways_do_not_collide(vendor_port: VendorHarness) -> None:
    locks = [vendor_port.lock(0), vendor_port.lock(2)]  # gateways differ
    await vendor_port.port.list_credentials(locks[0])

    issued = await asyncio.gather(
        *(vendor_port.port.issue(issue_request(vendor_port, CredentialKind.PASSCODE, lock)) for lock in locks)
    )

    assert len(issued) == 2


async def test_a_skewed_host_clock_is_refused_as_an_invalid_request(vendor_port: VendorHarness) -> None:
    if not vendor_port.clock_checked:
        pytest.skip(f"{vendor_port.vendor} does not check request timestamps")
    port = vendor_port.make_port(clock=lambda: time.time() + 600)

    with pytest.raises(InvalidRequest):
        await port.list_credentials(vendor_port.lock(0))


# -- sandbox fidelity: the TTLock wire rules the contract above relies on ------------------------------------------


async def test_ttlock_sandbox_keeps_a_bluetooth_type_passcode_in_the_cloud_only(vendor_port: VendorHarness) -> None:
    if vendor_port.vendor is not Vendor.TTLOCK:
        pytest.skip("TTLock wire rule")
    lock = vendor_port.lock(0)
    wire, account = vendor_port.admin, vendor_port.account
    password = hashlib.md5(account["password"].encode(), usedforsecurity=False).hexdigest()
    login = {"clientId": account["clientId"], "clientSecret": account["clientSecret"], "username": account["username"]}
    token = (await wire.post("/oauth2/token", data=login | {"password": password})).json()["access_token"]
    add = {
        "clientId": account["clientId"],
        "accessToken": token,
        "date": str(int(time.time() * 1000)),
        "lockId": lock.vendor_lock_id,
        "keyboardPwd": "482913",
        "keyboardPwdName": "bt-only",
        "keyboardPwdType": "3",
        "startDate": "1900000000000",
        "endDate": "1900086400000",
        "addType": "1",  # bluetooth: the app would have to be next to the lock
    }
    answer = await wire.post("/v3/keyboardPwd/add", data=add)

    assert "keyboardPwdId" in answer.json()
    assert await vendor_port.sandbox_credentials(lock) == []
    [cloud_only] = await vendor_port.sandbox_credentials(lock, include_cloud_only=True)
    assert (cloud_only.label, cloud_only.on_lock) == ("bt-only", False)


async def test_sandbox_answers_http_200_json_errcodes_to_unauthenticated_calls(vendor_port: VendorHarness) -> None:
    if vendor_port.vendor is not Vendor.TTLOCK:
        pytest.skip("TTLock wire rule")
    answer = await vendor_port.admin.post(
        "/v3/lock/detail",
        data={"clientId": vendor_port.account["clientId"], "accessToken": "nope", "date": str(int(time.time() * 1000))},
    )

    assert answer.status_code == httpx.codes.OK
    assert answer.json()["errcode"] == 10003
