"""A master-key shift's progress is a gauge per phase as well as an event: what the dashboards and alerts read."""

from __future__ import annotations

from prometheus_client import REGISTRY

from agents.master_keys import record_progress
from app.domain.master_shift import ShiftProgress, ShiftStatus


def locks(phase: str) -> float | None:
    return REGISTRY.get_sample_value("lis_master_key_shift_locks",
                                     {"tenant": "t-metric", "property": "p1", "phase": phase})


def test_each_progress_of_a_shift_sets_its_locks_by_phase() -> None:
    counts = {"pending": 6, "installing": 3, "revoking_old": 0, "done": 1, "straggler": 0}
    record_progress(ShiftProgress(tenant="t-metric", property="p1", shift_id="s1", status=ShiftStatus.RUNNING,
                                  counts=counts, total=10, stragglers={}))
    assert {phase: locks(phase) for phase in counts} == {phase: float(n) for phase, n in counts.items()}
    later = {"pending": 0, "installing": 0, "revoking_old": 0, "done": 9, "straggler": 1}
    record_progress(ShiftProgress(tenant="t-metric", property="p1", shift_id="s1", status=ShiftStatus.COMPLETED,
                                  counts=later, total=10, stragglers={"door-7": "gateway_offline"}))
    assert (locks("done"), locks("straggler"), locks("pending")) == (9.0, 1.0, 0.0)
