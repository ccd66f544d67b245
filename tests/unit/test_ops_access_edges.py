"""Ops access at its edges: who may reveal a guest's offline passcode, what a platform-wide view answers, and a
principal never sees a property of a tenant that is not its own."""

from __future__ import annotations

import pytest

from app.domain.ops_access import Decision, OpsAction, OpsPrincipal, OpsRole, OpsScope, authorize

ADMIN = OpsPrincipal("a", OpsRole.PLATFORM_ADMIN)
OPERATOR = OpsPrincipal("o", OpsRole.TENANT_OPERATOR, tenants=frozenset({"t1", "t2"}))
READER = OpsPrincipal("r", OpsRole.READ_ONLY, tenants=frozenset({"t1"}))


@pytest.mark.parametrize(("principal", "decision"), [
    (ADMIN, Decision(True, "allowed")),
    (OPERATOR, Decision(True, "allowed")),
    (READER, Decision(False, "role_not_allowed")),
], ids=["admin", "operator", "read-only"])
def test_the_front_desk_passcode_is_revealed_to_operators_and_admins_never_to_read_only(
        principal: OpsPrincipal, decision: Decision) -> None:
    assert authorize(principal, OpsScope("t1", "p1", action=OpsAction.REVEAL)) == decision


@pytest.mark.parametrize(("principal", "decision"), [
    (ADMIN, Decision(True, "allowed")),
    (OPERATOR, Decision(True, "allowed", tenants=frozenset({"t1", "t2"}))),
], ids=["admin-unfiltered", "operator-filtered"])
def test_a_platform_wide_view_is_allowed_with_its_tenant_filter(principal: OpsPrincipal, decision: Decision) -> None:
    assert authorize(principal, OpsScope(None)) == decision


def test_a_principal_does_not_see_a_property_of_another_tenant() -> None:
    assert not OPERATOR.sees_property("t3", "p1")
    assert OPERATOR.sees_property("t1", "p1")
