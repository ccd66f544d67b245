"""The LockPort contract, failures: status, gateways, accounts, every injected fault, timeouts and retries, and
concurrency map to the same canonical errors for every vendor adapter against its real sandbox."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest

from app.domain.credential import CredentialKind, IssueRequest
from app.domain.errors import (
    GatewayBusy,
    InvalidRequest,
    LockError,
    RateLimited,
    Unauthorized,
    Unsupported,
    VendorTimeout,
    VendorUnavailable,
)
from app.domain.lock_event import LockAction
from app.domain.lock_saga import CredentialRecord, CredentialStatus, VendorCall
from app.vendor_calls import VendorCaller
from tests.contract.harness import FixedMaterial
from tests.contract.requests import account, issue_request, stay

if TYPE_CHECKING:
    from tests.contract.harness import VendorHarness


async def test_lock_status_reports_an_online_lock_with_its_battery(vendor_port: VendorHarness) -> None:
    before = time.time()
    status = await vendor_port.port.lock_status(vendor_port.lock(0))

    assert status.online
    if vendor_port.reports_battery:
        assert status.battery_percent is not None
        assert 0 <= status.battery_percent <= 100
    else:  # offline locks never report a battery: None, not a made-up number
        assert status.battery_percent is None
    assert status.checked_at.timestamp() >= before - 1


async def test_lock_status_reports_offline_when_the_gateway_is_offline(vendor_port: VendorHarness) -> None:
    await vendor_port.take_gateway_offline(vendor_port.lock(2))

    assert not (await vendor_port.port.lock_status(vendor_port.lock(2))).online
    assert (await vendor_port.port.lock_status(vendor_port.lock(0))).online


async def test_issuing_through_an_offline_gateway_raises_vendor_unavailable(vendor_port: VendorHarness) -> None:
    await vendor_port.take_gateway_offline(vendor_port.lock(2))

    with pytest.raises(VendorUnavailable):
        await vendor_port.port.issue(issue_request(vendor_port, None, vendor_port.lock(2)))


async def test_a_credential_for_a_lock_without_a_gateway_raises_vendor_unavailable(vendor_port: VendorHarness) -> None:
    assert vendor_port.lock_without_gateway is not None, "every vendor of the suite has locks out of reach"
    lock = vendor_port.lock_without_gateway

    with pytest.raises(VendorUnavailable):
        await vendor_port.port.issue(issue_request(vendor_port, None, lock))
    assert not (await vendor_port.port.lock_status(lock)).online


async def test_a_card_on_a_lock_without_card_support_raises_unsupported(vendor_port: VendorHarness) -> None:
    if vendor_port.lock_without_cards is None:
        pytest.skip(f"{vendor_port.vendor} lacks locks without a card reader in its sandbox")
    with pytest.raises(Unsupported):
        await vendor_port.port.issue(issue_request(vendor_port, CredentialKind.CARD, vendor_port.lock_without_cards))


async def test_an_access_token_expiring_mid_run_is_refreshed_transparently(vendor_port: VendorHarness) -> None:
    account(vendor_port)
    lock = vendor_port.lock(0)
    await vendor_port.port.issue(issue_request(vendor_port, None, lock))
    await vendor_port.inject("token_expired", count=1)

    await vendor_port.port.issue(issue_request(vendor_port, None, lock))

    assert len(await vendor_port.sandbox_credentials(lock)) == 2
    assert (await vendor_port.stats())["faultsFired"] == {"token_expired": 1}


async def test_wrong_account_credentials_raise_unauthorized(vendor_port: VendorHarness) -> None:
    port = vendor_port.make_port(**account(vendor_port))

    with pytest.raises(Unauthorized):
        await port.list_credentials(vendor_port.lock(0))


async def test_an_injected_fault_maps_to_its_canonical_error(
    vendor_port: VendorHarness, fault: tuple[str, type[LockError]]
) -> None:
    mode, expected = fault
    lock = vendor_port.lock(0)
    await vendor_port.port.list_credentials(lock)  # token fetched, port opened, before the fault is armed
    await vendor_port.inject(mode, count=1)
    request = issue_request(vendor_port, None, lock)

    with pytest.raises(expected) as caught:
        await vendor_port.port.issue(request)

    assert type(caught.value) is expected
    assert caught.value.__cause__ is not None, "the vendor's own failure stays chained for operators"
    assert (await vendor_port.stats())["faultsFired"] == {mode: 1}
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == vendor_port.retry_after_s
    if caught.value.retryable:  # the fault has passed: the very same call now succeeds, and only once
        assert (await vendor_port.port.issue(request)).label == request.label
        assert [c.label for c in await vendor_port.sandbox_credentials(lock)] == [request.label]


async def test_a_vendor_slower_than_the_client_timeout_raises_vendor_timeout(vendor_port: VendorHarness) -> None:
    port = vendor_port.make_port(timeout_s=0.2)
    await port.list_credentials(vendor_port.lock(0))
    await vendor_port.inject("timeout", count=1, latency_ms=2_000)

    with pytest.raises(VendorTimeout):
        await port.issue(issue_request(vendor_port, None, vendor_port.lock(0)))


async def test_an_issue_retried_after_a_timeout_reconciles_by_label_instead_of_issuing_twice(
    vendor_port: VendorHarness,
) -> None:
    lock, kind = vendor_port.lock(0), vendor_port.default_kind
    port = vendor_port.make_port(timeout_s=0.2)
    await port.list_credentials(lock)
    record = CredentialRecord(
        stay="stay-r",
        sequence=1,
        idempotency_key=f"{lock.key}|stay-r|1",
        status=CredentialStatus.ISSUING,
        kind=kind,
        validity=stay(),
    )
    secret = vendor_port.secret(kind)
    await vendor_port.inject("timeout", count=1, latency_ms=400)
    with pytest.raises(VendorTimeout):
        await port.issue(IssueRequest(lock=lock, kind=kind, validity=stay(), label=record.label, secret=secret))
    await asyncio.sleep(0.6)  # the vendor carries the timed-out call out late, as a slow vendor does

    # The saga's replay: VendorCall(reconcile=True), carried out by the same executor the workers use.
    outcome = await VendorCaller().carry_out(
        port, lock, VendorCall(action=LockAction.ISSUE, record=record, reconcile=True),
        FixedMaterial(lambda *_: secret))

    assert outcome.ok, outcome.detail
    assert [c.label for c in await vendor_port.sandbox_credentials(lock, include_cloud_only=True)] == [record.label]
    assert [c.vendor_ref for c in await port.list_credentials(lock)] == [outcome.vendor_ref]


async def test_latency_below_the_client_timeout_only_slows_the_call(vendor_port: VendorHarness) -> None:
    await vendor_port.inject("latency", latency_ms=50)
    started = time.monotonic()

    await vendor_port.port.issue(issue_request(vendor_port, None, vendor_port.lock(0)))

    assert time.monotonic() - started >= 0.05
    assert (await vendor_port.stats())["faultsFired"]["latency"] >= 1


async def test_concurrent_commands_on_one_gateway_collide_with_gateway_busy(vendor_port: VendorHarness) -> None:
    shared = [vendor_port.lock(0), vendor_port.lock(1)]  # both behind the same gateway (or encoder)
    await vendor_port.port.list_credentials(shared[0])
    requests = [issue_request(vendor_port, None, shared[i % 2]) for i in range(6)]

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

    issued = await asyncio.gather(*(vendor_port.port.issue(issue_request(vendor_port, None, lock)) for lock in locks))

    assert len(issued) == 2


async def test_a_skewed_host_clock_is_refused_as_an_invalid_request(vendor_port: VendorHarness) -> None:
    if not vendor_port.clock_checked:
        pytest.skip(f"{vendor_port.vendor} lacks request timestamp checks")
    port = vendor_port.make_port(clock=lambda: time.time() + 600)

    with pytest.raises(InvalidRequest):
        await port.list_credentials(vendor_port.lock(0))
