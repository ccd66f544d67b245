"""The synthetic check's steps on an in-memory lock: once a canary is issued it is always revoked, a failed listing
is its own outcome, the canary carries no guest-key label, and one failing test lock of a vendor and region is not
hidden by a passing one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prometheus_client import REGISTRY

from app.domain.credential import Capabilities, CredentialKind, IssuedCredential, IssueRequest, LockRef
from app.domain.errors import VendorUnavailable
from app.domain.reconcile import LABEL_PREFIX
from app.synthetics import CanaryResult, canary, record_metrics
from tests.builders import lock

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


@dataclass
class MemoryLock:
    """A lock's credentials in memory, failing the calls named in ``failing``."""

    failing: set[str] = field(default_factory=set)
    held: dict[str, str] = field(default_factory=dict)  # vendor ref → label
    calls: list[str] = field(default_factory=list)

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(kinds=frozenset({CredentialKind.PASSCODE}), remote_revoke=True, remote_update=True,
                            lists_credentials=True)

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.failing:
            raise VendorUnavailable(f"{name} failed")

    async def issue(self, request: IssueRequest) -> IssuedCredential:
        self._call("issue")
        ref = f"ref-{len(self.held)}"
        self.held[ref] = request.label
        return IssuedCredential(vendor_ref=ref, kind=request.kind, label=request.label)

    async def list_credentials(self, on: LockRef) -> list[IssuedCredential]:
        self._call("list")
        return [IssuedCredential(vendor_ref=ref, kind=CredentialKind.PASSCODE, label=label)
                for ref, label in self.held.items()]

    async def revoke(self, on: LockRef, vendor_ref: str) -> None:
        self._call("revoke")
        self.held.pop(vendor_ref)


class Material:
    async def secret(self, *_: object, **__: object) -> str:
        return "482913"


async def _check(port: MemoryLock) -> CanaryResult:
    return await canary(port, Material(), lock(), NOW)  # type: ignore[arg-type]


async def test_a_passing_check_issues_finds_revokes_and_misses_a_canary_not_labelled_as_a_guest_key() -> None:
    port = MemoryLock()
    result = await _check(port)
    assert result.ok, result
    assert port.calls == ["issue", "list", "revoke", "list"]
    assert port.held == {}


async def test_a_canary_is_revoked_even_when_its_listing_failed_and_the_listing_is_the_outcome() -> None:
    port = MemoryLock(failing={"list"})
    result = await _check(port)
    assert (result.outcome, result.detail) == ("list_failed", "vendor_unavailable")
    assert port.calls == ["issue", "list", "revoke"]
    assert port.held == {}, "the canary does not wait 15 minutes on the lock"


async def test_a_failed_issue_or_revoke_names_its_step_and_the_vendors_cause() -> None:
    assert (await _check(MemoryLock(failing={"issue"}))).outcome == "issue_failed"
    port = MemoryLock(failing={"revoke"})
    result = await _check(port)
    assert (result.outcome, result.detail) == ("revoke_failed", "vendor_unavailable")
    (label,) = port.held.values()
    assert not label.startswith(LABEL_PREFIX), "reconciliation must not take the canary for a stray guest key"


def _sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_one_failing_test_lock_of_a_vendor_and_region_is_not_hidden_by_a_passing_one() -> None:
    region = f"region-{uuid.uuid4().hex[:8]}"  # the registry is the process's: a region of this run only
    first = LockRef(tenant="t1", region=region, property="p1", lock_id="canary-a", vendor="salto",
                    vendor_lock_id="a")
    second = first.model_copy(update={"lock_id": "canary-b", "vendor_lock_id": "b"})
    record_metrics([CanaryResult(first, "revoke_failed", 0.2), CanaryResult(second, "ok", 0.3)], at=1000.0)
    assert _sample("lis_synthetic_check_up", vendor="salto", region=region) == 0
    assert _sample("lis_synthetic_last_success_timestamp_seconds", vendor="salto", region=region) is None
    assert _sample("lis_synthetic_checks_total", vendor="salto", region=region, outcome="revoke_failed") == 1
    record_metrics([CanaryResult(first, "ok", 0.2), CanaryResult(second, "ok", 0.3)], at=2000.0)
    assert _sample("lis_synthetic_check_up", vendor="salto", region=region) == 1
    assert _sample("lis_synthetic_last_success_timestamp_seconds", vendor="salto", region=region) == 2000.0
