"""The LockPort contract, offline passcodes: where a vendor has them, one issued while the lock's gateway is offline
is listed with its digits and whole-hour window, cannot be deleted until the gateway is back, and then is; a vendor
without them refuses (``Unsupported``) and says so in its capabilities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from app.domain.credential import CredentialKind, IssueRequest, Validity, credential_label
from app.domain.errors import GatewayOffline, Unsupported

if TYPE_CHECKING:
    from tests.contract.harness import VendorHarness


def tomorrow_afternoon() -> Validity:
    """A whole-hour window starting tomorrow (offline codes may not start before the current day)."""
    start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=14, minute=0, second=0, microsecond=0)
    return Validity(starts_at=start, ends_at=start + timedelta(days=2, hours=-3))


async def test_an_offline_passcode_is_issued_without_the_gateway_and_deleted_once_it_is_back(
    vendor_port: VendorHarness,
) -> None:
    port, lock = vendor_port.port, vendor_port.lock(2)
    request = IssueRequest(lock=lock, kind=CredentialKind.PASSCODE, validity=tomorrow_afternoon(),
                           label=credential_label("offline-stay|1"))
    if not port.capabilities.offline_passcodes:
        with pytest.raises(Unsupported):
            await port.issue_offline(request)
        return
    await vendor_port.take_gateway_offline(lock)
    issued = await port.issue_offline(request)
    assert issued.code is not None
    assert issued.code.isdigit()
    assert issued.validity == request.validity
    listed = [c for c in await port.list_credentials(lock) if c.label == request.label]
    assert [(c.vendor_ref, c.code, c.validity) for c in listed] == [(issued.vendor_ref, issued.code,
                                                                     request.validity)]
    with pytest.raises(GatewayOffline):
        await port.revoke(lock, issued.vendor_ref)
    assert [c.vendor_ref for c in await port.list_credentials(lock) if c.label == request.label] == [
        issued.vendor_ref], "not deleted while the gateway is down"
    await vendor_port.take_gateway_offline(lock, back=True)
    await port.revoke(lock, issued.vendor_ref)
    assert not [c for c in await port.list_credentials(lock) if c.label == request.label]


async def test_an_offline_passcode_window_that_is_not_whole_hours_is_refused(vendor_port: VendorHarness) -> None:
    if not vendor_port.port.capabilities.offline_passcodes:
        pytest.skip(f"{vendor_port.vendor} has no offline passcodes (refused: see the test above)")
    window = tomorrow_afternoon()
    ragged = Validity(starts_at=window.starts_at + timedelta(minutes=20), ends_at=window.ends_at)
    with pytest.raises(Exception, match="whole hours"):
        await vendor_port.port.issue_offline(IssueRequest(lock=vendor_port.lock(0), kind=CredentialKind.PASSCODE,
                                                          validity=ragged, label=credential_label("ragged|1")))
