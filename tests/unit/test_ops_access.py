"""Who may read which ops view: decided from the token's role and scope and the key's tenant and property alone."""

from __future__ import annotations

import pytest

from app.domain.ops_access import OpsAction, OpsPrincipal, OpsRole, OpsScope, authorize

ADMIN = OpsPrincipal("a", OpsRole.PLATFORM_ADMIN)
OPERATOR = OpsPrincipal("o", OpsRole.TENANT_OPERATOR, tenants=frozenset({"t1", "t2"}))
P1_ONLY = OpsPrincipal("p", OpsRole.TENANT_OPERATOR, tenants=frozenset({"t1", "t2"}), properties=frozenset({"t1/p1"}))
READER = OpsPrincipal("r", OpsRole.READ_ONLY, tenants=frozenset({"t1"}))


@pytest.mark.parametrize(("principal", "scope", "reason"), [
    (ADMIN, OpsScope("any-tenant", "p9"), "allowed"),
    (OPERATOR, OpsScope("t2"), "allowed"),
    (OPERATOR, OpsScope("t3"), "tenant_not_allowed"),
    (P1_ONLY, OpsScope("t1", "p1"), "allowed"),
    (P1_ONLY, OpsScope("t1", "p2"), "property_not_allowed"),
    (P1_ONLY, OpsScope("t1"), "property_not_allowed"),  # a lock found in none of its properties
    (P1_ONLY, OpsScope("t2"), "allowed"),  # its t2 scope is not limited to properties
    (READER, OpsScope("t1", "p1"), "allowed"),
    (READER, OpsScope("t2", "p1"), "tenant_not_allowed"),
    (ADMIN, OpsScope("t1", action=OpsAction.REPLAY), "allowed"),
    (OPERATOR, OpsScope("t1", action=OpsAction.REPLAY), "role_not_allowed"),
    (READER, OpsScope("t1", action=OpsAction.REPLAY), "role_not_allowed"),
])
def test_a_request_is_allowed_or_refused_with_its_reason(principal: OpsPrincipal, scope: OpsScope,
                                                         reason: str) -> None:
    decision = authorize(principal, scope)
    assert (decision.allowed, decision.reason) == (reason == "allowed", reason)


def test_a_platform_wide_view_is_filtered_to_the_callers_tenants_unless_it_is_an_admin() -> None:
    assert authorize(ADMIN, OpsScope(None)).tenants is None
    assert authorize(OPERATOR, OpsScope(None)).tenants == {"t1", "t2"}
    assert authorize(READER, OpsScope(None)).tenants == {"t1"}
