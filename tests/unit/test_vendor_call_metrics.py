"""Every vendor call of a saga step is counted by outcome and timed (``lis_vendor_call_seconds``), its quick
attempts included, on success and on failure alike."""

from __future__ import annotations

from itertools import count

from prometheus_client import REGISTRY

from app.domain.credential import Capabilities, CredentialKind, IssuedCredential, LockRef
from app.domain.errors import VendorUnavailable
from app.domain.lock_event import LockAction
from app.domain.lock_saga import CredentialRecord, CredentialStatus, VendorCall
from app.vendor_calls import RetrySettings, VendorCaller
from tests.builders import lock
from tests.contract.harness import FixedMaterial

DOOR = lock("door-metrics").model_copy(update={"region": "metrics-test"})
RECORD = CredentialRecord(stay="t1/p1/R9", sequence=1, idempotency_key="metrics|1", status=CredentialStatus.REVOKING,
                          kind=CredentialKind.PASSCODE, vendor_ref="ref-1")


class OneCredential:
    """A vendor holding one credential, answering each call after ``seconds`` on the caller's clock; down on
    demand."""

    capabilities = Capabilities(kinds=frozenset({CredentialKind.PASSCODE}), remote_revoke=True, remote_update=True,
                                lists_credentials=True)

    def __init__(self) -> None:
        self.held = True
        self.down = False

    async def revoke(self, lock: LockRef, vendor_ref: str) -> None:
        if self.down:
            raise VendorUnavailable("503")
        self.held = False

    async def list_credentials(self, lock: LockRef) -> list[IssuedCredential]:
        if self.down:
            raise VendorUnavailable("503")
        return [IssuedCredential(vendor_ref="ref-1", kind=CredentialKind.PASSCODE, label=RECORD.label)] * self.held


def samples(outcome: str) -> tuple[float, float, float]:
    labels = {"vendor": "ttlock", "region": "metrics-test", "action": "revoke"}
    timed = (REGISTRY.get_sample_value("lis_vendor_call_seconds_count", labels) or 0.0,
             REGISTRY.get_sample_value("lis_vendor_call_seconds_sum", labels) or 0.0)
    return (*timed, REGISTRY.get_sample_value("lis_vendor_calls_total", {**labels, "outcome": outcome}) or 0.0)


async def test_a_call_is_counted_by_outcome_and_timed_with_its_quick_attempts() -> None:
    ticks = count(step=0.5)  # each reading of the caller's clock is half a second later
    caller = VendorCaller(retry=RetrySettings(quick_attempts=2, quick_base_s=0.0, quick_cap_s=0.0),
                          clock=lambda: next(ticks))
    port, call = OneCredential(), VendorCall(action=LockAction.REVOKE, record=RECORD)
    before_ok, before_failed = samples("ok"), samples("vendor_unavailable")

    assert (await caller.carry_out(port, DOOR, call, FixedMaterial(lambda *_: None))).ok  # type: ignore[arg-type]
    port.held, port.down = True, True
    assert not (await caller.carry_out(port, DOOR, call, FixedMaterial(lambda *_: None))).ok  # type: ignore[arg-type]

    after_ok, after_failed = samples("ok"), samples("vendor_unavailable")
    assert after_ok[2] == before_ok[2] + 1
    assert after_failed[2] == before_failed[2] + 1
    assert after_failed[0] == before_ok[0] + 2, "both calls timed, the failed one too"
    assert after_failed[1] - before_ok[1] >= 1.0, "time read on the caller's clock around each whole call"
