"""The product owner's readiness scorecard (SERVICE_READINESS §2) as data, and how a row's evidence meets a tier.

Each row asks, per tier, for one of: nothing (``—``), a partial result, the row met, the row met by at least two
vendors, or the row met if the tier uses that part (the Generic Wiegand encoders). The tiers are sequential
(§4): a tier is GO when every row meets it and every tier before it is GO.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

TIERS = ("MVP-Internal", "MVP-GA", "GA-Multi-Vendor", "GA-Offline", "GA-Multi-Region")


class Need(StrEnum):
    NOTHING = "—"
    PARTIAL = "partial"
    MET = "✅"
    TWO = "≥ 2 ✅"
    IF_USED = "(if used)"


class State(StrEnum):
    MET = "met"
    PARTIAL = "partial"
    MISSING = "missing"


@dataclass(frozen=True)
class Row:
    domain: str
    item: str
    needs: tuple[Need, Need, Need, Need, Need]  # one per tier, in TIERS order
    key: str  # the evidence check that judges it (app/readiness/checks.py)


@dataclass(frozen=True)
class Finding:
    """What the evidence says about one row: its state, how many (vendors) meet it, why, where and when."""

    state: State
    reason: str
    source: str  # the file or command that shows it
    date: str | None = None  # ISO date of the evidence
    count: int | None = None


def satisfies(need: Need, finding: Finding, *, wiegand_used: bool = False) -> bool:
    if need is Need.NOTHING or (need is Need.IF_USED and not wiegand_used):
        return True
    if need is Need.PARTIAL:
        return finding.state in (State.MET, State.PARTIAL)
    if need is Need.TWO:
        return finding.state is State.MET and (finding.count or 0) >= 2
    return finding.state is State.MET


_ = Need.NOTHING
P = Need.PARTIAL
Y = Need.MET
T = Need.TWO
U = Need.IF_USED

ROWS: tuple[Row, ...] = (
    Row("Functional", "LockPort implemented, all canonical operations", (Y, Y, Y, Y, Y), "lock_port"),
    Row("Functional", "At least one vendor adapter passing contract suite", (Y, Y, T, T, T), "vendor_contracts"),
    Row("Functional", "Issue saga (reservation.confirmed → key) end-to-end", (Y, Y, Y, Y, Y), "issue_saga"),
    Row("Functional", "Revoke saga (checkout/cancel) end-to-end", (Y, Y, Y, Y, Y), "revoke_saga"),
    Row("Functional", "Update saga (date change) end-to-end", (_, Y, Y, Y, Y), "update_saga"),
    Row("Functional", "Master-key shift saga", (_, Y, Y, Y, Y), "master_key"),
    Row("Functional", "Vendor webhook ingress (signed)", (Y, Y, Y, Y, Y), "webhook_ingress"),
    Row("Functional", "Offline issuance via Electron + reconciliation", (_, _, _, Y, Y), "electron_offline"),
    Row("Quality", "Coverage ≥ targets (TESTING_STRATEGY §10)", (P, Y, Y, Y, Y), "coverage"),
    Row("Quality", "Mutation score ≥ targets on domain + sagas", (_, Y, Y, Y, Y), "mutation"),
    Row("Quality", "Vendor sandbox conformance green ≥ 3 nightly", (Y, Y, Y, Y, Y), "conformance"),
    Row("Quality", "k6 load baseline within 10%", (_, Y, Y, Y, Y), "load_baseline"),
    Row("Quality", "HIL Generic Wiegand checklist within 14d", (_, U, U, Y, Y), "hil"),
    Row("Security", "Vendor secrets in Secret Manager, per-tenant CMEK", (Y, Y, Y, Y, Y), "secrets"),
    Row("Security", "RLS enforced on all tables, audited", (Y, Y, Y, Y, Y), "rls"),
    Row("Security", "Webhook signature verification per vendor", (Y, Y, Y, Y, Y), "webhook_signatures"),
    Row("Security", "lock_audit immutability + Merkle anchoring", (P, Y, Y, Y, Y), "audit"),
    Row("Security", "Logging redaction tests pass; secret-scan CI clean", (Y, Y, Y, Y, Y), "redaction"),
    Row("Security", "Penetration test report — no Highs unaddressed", (_, Y, Y, Y, Y), "pentest"),
    Row("Security", "Offline issuance signing key in KMS, rotation policy active", (_, _, _, Y, Y), "offline_signing"),
    Row("Security", "Device binding + CRL operational", (_, _, _, Y, Y), "device_binding"),
    Row("Reliability", "All saga retries + circuit breakers configured", (Y, Y, Y, Y, Y), "retries"),
    Row("Reliability", "All failure modes from FAILURE_MODES covered by tests", (P, Y, Y, Y, Y), "failure_modes"),
    Row("Reliability", "Disaster-recovery drill executed (Cloud SQL restore from PITR)", (_, Y, Y, Y, Y), "dr_drill"),
    Row("Observability", "All SLO recording rules deployed", (Y, Y, Y, Y, Y), "slo_rules"),
    Row("Observability", "Page-the-on-call alerts wired with runbook links", (Y, Y, Y, Y, Y), "alerts"),
    Row("Observability", "SRE dashboards + per-tenant + per-property dashboards live", (P, Y, Y, Y, Y), "dashboards"),
    Row("Observability", "Synthetic vendor checks running per region", (Y, Y, Y, Y, Y), "synthetics"),
    Row("Operability", "Runbooks (FAILURE_MODES §1) merged in runbooks/lock-integration/", (P, Y, Y, Y, Y), "runbooks"),
    Row("Operability", "On-call rotation defined, primary + secondary", (_, Y, Y, Y, Y), "oncall"),
    Row("Operability", "Customer-facing status page integration", (_, Y, Y, Y, Y), "status_page"),
    Row("Operability", "Vendor escalation contacts documented per vendor", (_, Y, Y, Y, Y), "escalation"),
    Row("Compliance", "Data classification mapping reviewed by privacy", (Y, Y, Y, Y, Y), "classification"),
    Row("Compliance", "Subject-deletion path implemented (pseudonymization)", (_, Y, Y, Y, Y), "subject_deletion"),
    Row("Compliance", "Data residency routing implemented and tested", (_, _, _, _, Y), "residency"),
    Row("Documentation", "All 17 service docs current (SERVICE_TEMPLATE)", (Y, Y, Y, Y, Y), "service_docs"),
    Row("Documentation", "OpenAPI spec published, lint clean", (Y, Y, Y, Y, Y), "openapi"),
    Row("Documentation", "Event schemas in registry; consumer compatibility checked", (Y, Y, Y, Y, Y), "schemas"),
    Row("Documentation", "ADR-0004 still reflects implementation", (Y, Y, Y, Y, Y), "adr"),
)


def tiers_go(findings: dict[str, Finding], *, wiegand_used: bool = False) -> dict[str, list[str]]:
    """Per tier, the items that keep it from GO (empty: the tier's rows are all met)."""
    return {tier: [row.item for row in ROWS
                   if not satisfies(row.needs[index], findings[row.key], wiegand_used=wiegand_used)]
            for index, tier in enumerate(TIERS)}


def highest_go(blocking: dict[str, list[str]]) -> str | None:
    """The last tier of the sequential promotion path whose tier and every tier before it are GO."""
    reached = None
    for tier in TIERS:
        if blocking[tier]:
            break
        reached = tier
    return reached
