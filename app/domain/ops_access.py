"""Who may read which ops view: roles, tenant and property scope, decided before any table is read.

A principal comes from a verified bearer token (``app/security/ops_tokens.py``). A refusal for another tenant's key
says only that the tenant is not the caller's: it is given before the table is read, so it is the same whether the
key exists or not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class OpsRole(StrEnum):
    PLATFORM_ADMIN = "platform-admin"  # every tenant; may replay dead letters
    TENANT_OPERATOR = "tenant-operator"  # its tenants (optionally some properties)
    READ_ONLY = "read-only"  # like an operator, never an action


class OpsAction(StrEnum):
    READ = "read"
    REPLAY = "replay"  # send a dead letter back: platform admins
    REVEAL = "reveal"  # read a guest's offline passcode, for the front desk: operators and admins


@dataclass(frozen=True)
class OpsPrincipal:
    subject: str
    role: OpsRole
    tenants: frozenset[str] = frozenset()
    properties: frozenset[str] = frozenset()  # "tenant/property"; empty: every property of its tenants
    token_id: str = ""

    def sees_tenant(self, tenant: str) -> bool:
        return self.role is OpsRole.PLATFORM_ADMIN or tenant in self.tenants

    def property_limited(self, tenant: str) -> bool:
        """Whether this principal sees only some properties of ``tenant`` (so a lock's property must be known)."""
        return self.role is not OpsRole.PLATFORM_ADMIN and any(p.startswith(f"{tenant}/") for p in self.properties)

    def sees_property(self, tenant: str, property_id: str) -> bool:
        if not self.sees_tenant(tenant):
            return False
        return not self.property_limited(tenant) or f"{tenant}/{property_id}" in self.properties


@dataclass(frozen=True)
class OpsScope:
    """What a request asks for: one tenant's key (with the property when the view knows it), or the platform."""

    tenant: str | None  # None: a platform-wide view (every tenant)
    property: str | None = None
    action: OpsAction = OpsAction.READ


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # "allowed", or the refusal's reason code
    tenants: frozenset[str] | None = field(default=None)  # a platform-wide view's filter; None: no filter


def authorize(principal: OpsPrincipal, scope: OpsScope) -> Decision:
    """Allow or refuse (with the reason code of the 403) one request of ``principal``."""
    if scope.action is OpsAction.REPLAY and principal.role is not OpsRole.PLATFORM_ADMIN:
        return Decision(False, "role_not_allowed")
    if scope.action is OpsAction.REVEAL and principal.role is OpsRole.READ_ONLY:
        return Decision(False, "role_not_allowed")
    if scope.tenant is None:
        if principal.role is OpsRole.PLATFORM_ADMIN:
            return Decision(True, "allowed")
        return Decision(True, "allowed", tenants=principal.tenants)
    if not principal.sees_tenant(scope.tenant):
        return Decision(False, "tenant_not_allowed")
    if scope.property is None and principal.property_limited(scope.tenant):
        return Decision(False, "property_not_allowed")  # its property is not among the allowed ones
    if scope.property is not None and not principal.sees_property(scope.tenant, scope.property):
        return Decision(False, "property_not_allowed")
    return Decision(True, "allowed")
