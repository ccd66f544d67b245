"""The offset ledger's rule: which records continue their partition, which are redeliveries, which jump a hole."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.domain.stream_continuity import Continuity, Verdict, continuity_of, ledger_key


def test_the_first_record_ever_seen_continues_the_partition() -> None:
    assert continuity_of(None, 1234) == Verdict(Continuity.NEXT)


def test_the_record_right_after_the_last_processed_one_continues_it() -> None:
    assert continuity_of(41, 42) == Verdict(Continuity.NEXT)


def test_a_record_at_or_below_the_last_processed_one_is_a_redelivery() -> None:
    assert continuity_of(41, 41).continuity is Continuity.REDELIVERED
    assert continuity_of(41, 3).continuity is Continuity.REDELIVERED


def test_a_record_further_ahead_names_the_hole_it_jumped() -> None:
    assert continuity_of(24, 43) == Verdict(Continuity.JUMP, missing_from=25, missing_to=43)


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**9))
def test_every_jump_hole_is_exactly_the_offsets_between(last: int, offset: int) -> None:
    verdict = continuity_of(last, offset)
    assert (verdict.continuity is Continuity.JUMP) == (offset > last + 1)
    if verdict.continuity is Continuity.JUMP:
        assert (verdict.missing_from, verdict.missing_to) == (last + 1, offset)


def test_ledger_keys_name_the_topic_and_partition() -> None:
    assert ledger_key("pms.reservations", 3) == "pms.reservations/3"
