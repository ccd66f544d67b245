"""Prometheus metrics of the worker (served on their own port, ``LIS_METRICS_PORT``, apart from the ops API)."""

from __future__ import annotations

import time
from typing import Any

import faust
from prometheus_client import Counter, Gauge, Histogram

VENDOR_CALLS = Counter("lis_vendor_calls_total", "Vendor calls by vendor, region, action and outcome",
                       ["vendor", "region", "action", "outcome"])
BREAKER_OPEN = Gauge("lis_circuit_open", "1 while the circuit breaker of a tenant's vendor is open or half-open",
                     ["tenant", "vendor"])
DEAD_LETTERS = Counter("lis_dead_letters_total", "Records sent to lock.dlq, by source topic", ["source"])
RETRIES_SCHEDULED = Counter("lis_retries_scheduled_total", "Vendor calls rescheduled after a retryable failure",
                            ["vendor"])
DATABASE_RETRIES = Counter("lis_database_retries_total", "Database calls retried while PostgreSQL was unreachable")
STREAM_AUDIT_DIFFERENCES = Gauge("lis_stream_audit_differences", "Differences the last end-to-end stream audit "
                                 "found (and re-drove), by problem", ["problem"])
ABSURD_RETRY_AFTERS = Counter("lis_vendor_absurd_retry_after_total", "Rate limits whose Retry-After exceeded an "
                              "hour (obeyed; a vendor misconfiguration to look at)")
STREAM_GAPS = Counter("lis_stream_gaps_total", "Jumps over unprocessed records found by an agent's offset ledger "
                      "and repaired by re-reading", ["topic"])
RECONCILE_DRIFT = Counter("lis_reconcile_drift_total", "Differences anti-entropy found between a lock's listing and "
                          "its saga, by problem (stray, duplicates, missing, drifted, landed)", ["problem"])
RECONCILE_RUNS = Counter("lis_reconcile_locks_total", "Locks reconciled, by verdict (clean, repaired, reported, "
                         "failed)", ["verdict"])
UNKNOWN_RESERVATIONS = Counter("lis_unknown_reservations_total", "PMS events for a reservation the service never saw, "
                               "by event type (checkouts and cancellations are dead-lettered too)", ["type"])
LOCK_EVENTS = Counter("lis_lock_events_total", "Lock events published on lock.events, by tenant, vendor and type "
                      "(key.issued, key.issue_failed, key.updated, key.revoked, key.revoke_failed); an event "
                      "re-emitted after a crash counts again", ["tenant", "vendor", "type"])
PROPERTY_LOCK_EVENTS = Counter("lis_property_lock_events_total", "Lock events published on lock.events, by tenant, "
                               "property and type: the per-property dashboard (properties are bounded by the lock "
                               "directory, a few hundred to a thousand per hotel group)",
                               ["tenant", "property", "type"])
OPS_REQUESTS = Counter("lis_ops_requests_total", "Ops API requests by view, outcome (allowed, refused) and reason "
                       "code (allowed, token_expired, tenant_not_allowed, …)", ["view", "outcome", "reason"])
VENDOR_CALL_SECONDS = Histogram("lis_vendor_call_seconds", "One vendor call of a saga step, its quick in-place "
                                "attempts included, by vendor, region and action (issue, update, revoke)",
                                ["vendor", "region", "action"],
                                buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60))
OFFLINE_CODES = Counter("lis_offline_codes_total", "Offline passcodes issued because a lock's gateway was offline "
                        "(docs/FAILURE_MODES.md, gateway offline), by tenant and vendor", ["tenant", "vendor"])
PMS_TO_LOCK_EVENT = Histogram("lis_pms_to_lock_event_seconds", "From the PMS event reaching the service to the lock "
                              "event that settles it, by tenant and type (key.issued, key.revoked, key.updated and "
                              "their failures): the latency SLIs", ["tenant", "type"],
                              buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600))
STEPS_RETRY_PENDING = Gauge("lis_saga_steps_retry_pending", "Lock steps (issue, update, revoke) of this worker's locks "
                            "waiting for a delayed retry, by vendor: the retry depth", ["vendor"])
SHIFT_LOCKS = Gauge("lis_master_key_shift_locks", "Locks of the property's master-key shift in progress (or last) by "
                    "phase: pending, installing, revoking_old, done, straggler", ["tenant", "property", "phase"])
RETRY_OVERDUE = Gauge("lis_saga_retry_oldest_overdue_seconds", "How long the oldest delayed retry of this worker's "
                      "locks has been due without being carried out (0: none is overdue): a retry timer that "
                      "stopped, or a partition that does not move")
STEPS_STALLED = Gauge("lis_saga_steps_stalled", "Lock steps of this worker's locks in flight with no retry pending "
                      "for longer than a vendor call can take: no step is carrying them out (a lost retry tick, a "
                      "hung call); each one is a key that is neither issued nor revoked")
SYNTHETIC_CHECKS = Counter("lis_synthetic_checks_total", "Synthetic vendor checks (lis synthetics) by vendor, region "
                           "and outcome: ok, or the step that failed (issue_failed, not_listed, revoke_failed, "
                           "still_listed)", ["vendor", "region", "outcome"])
SYNTHETIC_CHECK_UP = Gauge("lis_synthetic_check_up", "1 when the last synthetic check of the vendor in the region "
                           "passed, 0 when it failed", ["vendor", "region"])
SYNTHETIC_CHECK_SECONDS = Histogram("lis_synthetic_check_seconds", "A passing synthetic check, issue to revoke "
                                    "confirmed, by vendor and region", ["vendor", "region"],
                                    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60))
SYNTHETIC_LAST_SUCCESS = Gauge("lis_synthetic_last_success_timestamp_seconds", "When the vendor's synthetic check "
                               "in the region last passed (Unix time)", ["vendor", "region"])
AUDIT_LEAVES_STORED = Counter("lis_audit_leaves_stored_total", "Audit records the sink committed to their tenant's "
                              "tree in PostgreSQL (a replayed record already stored counts again)", ["tenant"])
AUDIT_UNANCHORED_SINCE = Gauge("lis_audit_unanchored_since_timestamp_seconds", "When the oldest leaf of the tenant's "
                               "tree not yet covered by a signed checkpoint was stored (Unix time; 0: all anchored)",
                               ["tenant"])
AUDIT_CHECKPOINTS = Counter("lis_audit_checkpoints_total", "Audit checkpoints by tenant and outcome: published, "
                            "refused (the tree no longer extends its last anchor: tampering), postponed (an outage)",
                            ["tenant", "outcome"])
CONSUMER_LAG = Gauge("lis_consumer_lag", "Records of a consumed topic's partition the worker group has not committed "
                     "past (end offset minus committed offset, from the broker), by topic (without prefix) and "
                     "partition", ["topic", "partition"])

REBALANCE_SECONDS = Histogram("lis_rebalance_seconds", "A consumer-group rebalance on this worker, from its start to "
                              "the worker being ready again, changelog recovery included",
                              buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800))
TABLE_RECOVERY_SECONDS = Histogram("lis_table_recovery_seconds", "Changelog recovery of the tables after a rebalance: "
                                   "from the partitions being assigned to the tables being ready (a new or lost "
                                   "RocksDB replays the whole changelog)",
                                   buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800))


class RebalanceSensor(faust.Sensor):
    """Times every rebalance and its changelog recovery (Faust's sensor hooks, called by the app itself)."""

    def on_rebalance_start(self, app: Any) -> dict[str, Any]:
        return {"started": time.monotonic()}

    def on_rebalance_return(self, app: Any, state: dict[str, Any]) -> None:
        state["assigned"] = time.monotonic()  # the new assignment is in; recovery of the tables begins

    def on_rebalance_end(self, app: Any, state: dict[str, Any]) -> None:
        ended = time.monotonic()
        REBALANCE_SECONDS.observe(ended - state["started"])
        if "assigned" in state:
            TABLE_RECOVERY_SECONDS.observe(ended - state["assigned"])
