"""Requests and skips shared by the LockPort contract tests."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from app.domain.credential import CredentialKind, IssueRequest, LockRef, Validity, credential_label

if TYPE_CHECKING:
    from tests.contract.harness import VendorHarness

BERLIN = ZoneInfo("Europe/Berlin")
ALL_KINDS = pytest.mark.parametrize("kind", list(CredentialKind))
_stays = itertools.count(1)


def stay(start: datetime | None = None, nights: int = 2) -> Validity:
    """A stay window; by default a Berlin check-in at 15:00 and check-out at 11:00."""
    starts_at = start or datetime(2031, 5, 4, 15, 0, tzinfo=BERLIN)
    ends_at = (starts_at + timedelta(days=nights)).replace(hour=11, minute=0)
    return Validity(starts_at=starts_at, ends_at=ends_at)


def issue_request(
    h: VendorHarness, kind: CredentialKind | None, lock: LockRef, validity: Validity | None = None, **changes: object
) -> IssueRequest:
    kind = kind or h.default_kind
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
        pytest.skip(f"{h.vendor} lacks capability kinds: {kind}")


def remote_update(h: VendorHarness) -> None:
    if not h.port.capabilities.remote_update:
        pytest.skip(f"{h.vendor} lacks capability remote_update")


def account(h: VendorHarness) -> dict[str, object]:
    if h.bad_account is None:
        pytest.skip(f"{h.vendor} lacks an account and access tokens")
    return h.bad_account
