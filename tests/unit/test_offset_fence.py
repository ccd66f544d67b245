"""The consumer patch's fence between seeks and fetched batches (app/faust_offsets_patch.py), thread by thread."""

from __future__ import annotations

from faust.types import TP

from app.faust_offsets_patch import OffsetFence

TP0 = TP("pms.reservations", 0)


def test_a_batch_fetched_before_a_seek_is_stale_and_one_fetched_after_is_not() -> None:
    fence = OffsetFence()
    fence.fetched([TP0])
    assert not fence.is_stale(TP0)
    fence.sought(TP0, 24)
    assert fence.is_stale(TP0)  # aiokafka re-delivers it from 24
    fence.fetched([TP0])
    assert not fence.is_stale(TP0)
    assert fence.expected(TP0) == 24


def test_a_delivery_across_a_seek_does_not_move_the_expected_offset() -> None:
    fence = OffsetFence()
    fence.sought(TP0, 24)
    fence.fetched([TP0])
    fence.sought(TP0, 24)  # the recovery's seek lands while offset 43 is being handed over
    assert not fence.delivered(TP0, 43)
    assert fence.expected(TP0) == 24


def test_a_revoked_partition_forgets_and_an_in_flight_delivery_cannot_restore_it() -> None:
    fence = OffsetFence()
    fence.sought(TP0, 10)
    fence.fetched([TP0])
    fence.forget({TP0})
    assert not fence.delivered(TP0, 10)
    assert fence.expected(TP0) is None


def test_a_seek_back_decided_before_a_newer_seek_is_not_carried_out() -> None:
    fence, seeks = OffsetFence(), []
    fence.sought(TP0, 50)
    fence.fetched([TP0])
    epoch = fence.batch_epoch(TP0)
    fence.sought(TP0, 30)  # a recovery seeks to the committed offset while the broker is asked
    assert not fence.seek_if_current(TP0, 50, epoch, lambda: seeks.append(50))
    assert (seeks, fence.expected(TP0)) == ([], 30)


def test_a_seek_back_with_no_newer_seek_is_carried_out_and_fences_the_batch() -> None:
    fence, seeks = OffsetFence(), []
    fence.sought(TP0, 50)
    fence.fetched([TP0])
    assert fence.seek_if_current(TP0, 44, fence.batch_epoch(TP0), lambda: seeks.append(44))
    assert (seeks, fence.expected(TP0), fence.is_stale(TP0)) == ([44], 44, True)
