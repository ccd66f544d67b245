"""A patch to faust-streaming 0.15.3's consumer so that no record is ever committed without being processed.

Why (docs/adr/0005-faust-consumer-offsets.md, reproduced by tests/integration/test_consumer_takeover.py): a worker
taking partitions over resumes them and seeks them to the committed offsets while its fetch loop may hold a batch
fetched before the seek. Upstream hands that batch over anyway: its records overwrite the read offset the seek
set, the stream buffers they filled are cleared when flow resumes, the records re-delivered after the seek are
dropped as "already read", and the jump between is acknowledged as a gap — so the commit moves past records no
worker processed (faust-streaming #596 and #606; #216/#217 and #312 fixed other variants).

What, one fence per consumer, each change tied to the regression test:
1. Every seek runs in the consumer thread and moves the partition's *epoch*; every fetch records, in the same
   thread step as its drain, the epoch it was fetched in. A record fetched before a seek is discarded: aiokafka
   re-delivers it from the new position. (``_fetch_records``, ``seek_to_committed``, ``_seek_wait``, ``_seek``.)
2. The fetch loop admits a record only at the offset it expects next. A jump forward is acknowledged as a gap
   only when the broker, asked directly, holds no record in between (compaction, transaction markers); otherwise
   the partition is sought back and re-read. (``_drain_messages``, ``broker_has_records``.)
3. A commit starts exactly at the committed offset, which is the next offset to read, not one past it: upstream
   tolerated one unacknowledged record at the head (``_new_offset``, ``_add_gap``).
4. A partition with records but no committed offset (its previous owner was killed before its first commit) is
   sought to the start of its log at every seek to the committed offsets, instead of being left to aiokafka's reset,
   after which a worker taking it over in a rebalance never fetched it (``_seek_to_committed``).

How to remove it: when tests/integration/test_consumer_takeover.py's unpatched run stops losing records on a new
faust-streaming release, delete this module and its ``install_consumer_patch()`` call, and run the chaos soak.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, cast

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.tables.recovery import Recovery
from faust.transport import consumer as consumer_module
from faust.transport.consumer import Consumer, ThreadDelegateConsumer
from faust.transport.drivers import aiokafka as driver
from faust.types import TP, ConsumerT

log = logging.getLogger(__name__)
SUPPORTED_FAUST = "0.15.3"

_upstream_fetch_records = driver.AIOKafkaConsumerThread._fetch_records


class OffsetFence:
    """Per-partition seek epochs and the next offset the fetch loop expects; shared by the main and consumer
    threads, so every read-modify-write holds the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._epoch: dict[TP, int] = {}
        self._next: dict[TP, int] = {}
        self.batch_epochs: dict[TP, int] = {}  # the epochs of the batch the fetch loop is handing over

    def sought(self, tp: TP, offset: int | None) -> None:
        """The consumer's position of ``tp`` was just set to ``offset`` (None: left to the reset policy)."""
        with self._lock:
            self._epoch[tp] = self._epoch.get(tp, 0) + 1
            if offset is None:
                self._next.pop(tp, None)
            else:
                self._next[tp] = offset

    def fetched(self, tps: list[TP]) -> None:
        with self._lock:
            self.batch_epochs = {tp: self._epoch.get(tp, 0) for tp in tps}

    def forget(self, tps: set[TP]) -> None:
        """Revoked: no expected offset, and a delivery still in flight must not set one again."""
        for tp in tps:
            self.sought(tp, None)

    def seek_if_current(self, tp: TP, offset: int, epoch: int, seek: Callable[[], None]) -> bool:
        """Run ``seek`` (to ``offset``) only if no other seek moved ``tp`` since ``epoch``; one step."""
        with self._lock:
            if self._epoch.get(tp, 0) != epoch:
                return False
            seek()
            self._epoch[tp] = epoch + 1
            self._next[tp] = offset
            return True

    def batch_epoch(self, tp: TP) -> int:
        return self.batch_epochs.get(tp, -1)

    def is_stale(self, tp: TP) -> bool:
        return self.batch_epochs.get(tp, -1) != self._epoch.get(tp, 0)

    def expected(self, tp: TP) -> int | None:
        return self._next.get(tp)

    def delivered(self, tp: TP, offset: int) -> bool:
        """Move the expected offset past ``offset`` unless a seek came in while it was being delivered."""
        with self._lock:
            if self.batch_epochs.get(tp, -1) != self._epoch.get(tp, 0):
                return False
            self._next[tp] = offset + 1
            return True


def fence_of(consumer: Consumer) -> OffsetFence:
    fence: OffsetFence | None = consumer.__dict__.get("_offset_fence")
    if fence is None:
        fence = consumer.__dict__.setdefault("_offset_fence", OffsetFence())
    return fence




async def _fetch_records(self: driver.AIOKafkaConsumerThread, consumer: AIOKafkaConsumer, active_partitions: Any,
                         timeout: float | None = None, max_records: int | None = None) -> Any:  # noqa: ASYNC109
    records = await _upstream_fetch_records(self, consumer, active_partitions, timeout=timeout,
                                            max_records=max_records)
    fence_of(self.consumer).fetched(list(records))  # no await since the drain: the epochs are the drain's
    return records


async def _seek_to_committed(self: driver.AIOKafkaConsumerThread) -> Mapping[TP, int]:
    """Seek every assigned partition to its committed offset, and one with no committed offset to the start of its
    log (the app's ``earliest`` reset policy): left to aiokafka, such a partition taken over from a worker killed
    before its first commit was never fetched again (tests/e2e/test_failure_modes_real_path.py, "nobody committed")."""
    consumer = self._ensure_consumer()
    fence = fence_of(self.consumer)
    from_start = self.app.conf.consumer_auto_offset_reset == "earliest"

    async def seek_and_fence() -> dict[Any, int | None]:
        tps = list(consumer.assignment())
        committed = {tp: await consumer.committed(tp) for tp in tps}
        uncommitted = [tp for tp, offset in committed.items() if offset is None or offset < 0]
        starts = await consumer.beginning_offsets(uncommitted) if uncommitted and from_start else {}
        for tp, offset in committed.items():  # no await in this loop: each seek and its epoch are one step
            if offset is not None and offset >= 0:
                consumer.seek(tp, offset)  # upstream skips offset 0
                fence.sought(tp, offset)
            elif tp in starts:
                consumer.seek(tp, starts[tp])  # not left to aiokafka: see _seek_to_committed's docstring
                fence.sought(tp, starts[tp])
        return committed

    return cast(Mapping[TP, int], await self.call_thread(seek_and_fence))  # None where nothing is committed


async def _seek_wait_fenced(self: driver.AIOKafkaConsumerThread, consumer: AIOKafkaConsumer,
                            partitions: Mapping[TP, int]) -> None:
    fence = fence_of(self.consumer)
    for tp, offset in partitions.items():
        consumer.seek(tp, offset)
        fence.sought(tp, offset)
    await asyncio.wait_for(asyncio.gather(*[consumer.position(tp) for tp in partitions]),
                           timeout=self.app.conf.broker_request_timeout)


async def _seek_through_thread(self: ThreadDelegateConsumer, partition: TP, offset: int) -> None:
    await self._thread.seek_wait({partition: offset})  # upstream seeks from the main thread, unfenced


def _new_offset(self: Consumer, tp: TP) -> int | None:
    committed = self._committed_offset[tp]
    acked = self._acked[tp]
    if acked and committed is not None and min(acked) > committed and not self._gap[tp].overlaps(committed):
        return None  # the record at the committed offset is not processed yet
    return _upstream_new_offset(self, tp)


async def _add_gap(self: Consumer, tp: TP, offset_from: int, offset_to: int) -> None:
    committed = self._committed_offset[tp]
    if committed is not None:
        offset_from = max(offset_from, committed)  # upstream: committed + 1
    if offset_from <= offset_to:
        self._gap[tp].addi(offset_from, offset_to + 1)
        self._gap[tp].merge_overlaps()


class _GapProbe:
    """A group-less consumer that asks the broker what a partition holds; one question at a time."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.consumer: AIOKafkaConsumer | None = None

    async def first_offset_from(self, owner: ConsumerT, tp: TP, start: int) -> int | None:
        """The first deliverable offset at or after ``start``; None when the broker did not say in time."""
        async with self.lock:
            if self.consumer is None:
                started = AIOKafkaConsumer(**_probe_settings(owner))
                await started.start()  # kept only once started: a failed start is tried again next time
                self.consumer = started
            partition = TopicPartition(tp.topic, tp.partition)
            self.consumer.assign([partition])
            self.consumer.seek(partition, start)
            batch = await self.consumer.getmany(partition, timeout_ms=5_000, max_records=1)
            records = batch.get(partition, [])
            return records[0].offset if records else None


def _probe_settings(owner: ConsumerT) -> dict[str, Any]:
    conf = owner.app.conf  # type: ignore[attr-defined]  # every Consumer has its app
    transport = cast(Any, owner.transport)
    return {"bootstrap_servers": driver.server_list(transport.url, transport.default_port),
            "enable_auto_commit": False, "group_id": None, "auto_offset_reset": "earliest",
            "client_id": f"{conf.broker_client_id}-gap-probe",
            "isolation_level": "read_committed" if owner.in_transaction else "read_uncommitted",
            "request_timeout_ms": int(conf.broker_request_timeout * 1000),
            **driver.credentials_to_aiokafka_auth(conf.broker_credentials, conf.ssl_context)}


async def broker_has_records(consumer: ConsumerT, tp: TP, start: int, end: int) -> bool:
    """Whether the broker holds a deliverable record in ``[start, end)``. True when it cannot tell (no answer in
    time, or the probe failed: after a short pause, so a broker outage is not a busy loop): a hole is re-read
    rather than acknowledged on a guess."""
    probe: _GapProbe = consumer.__dict__.setdefault("_gap_probe", _GapProbe())
    try:
        first = await probe.first_offset_from(consumer, tp, start)
    except Exception as err:  # the probe must never end the fetch loop or an agent
        log.warning("could not ask the broker about %s from %d: %r", tp, start, err)
        await asyncio.sleep(1.0)
        return True
    return first is None or first < end


async def _seek_back(consumer: Consumer, tp: TP, offset: int, epoch: int) -> None:
    """Seek ``tp`` back to ``offset`` in the consumer thread, unless a newer seek moved it meanwhile (a recovery's
    seek to the committed offset wins over this older decision)."""
    thread = cast(driver.AIOKafkaConsumerThread, cast(ThreadDelegateConsumer, consumer)._thread)
    aiokafka_consumer = thread._ensure_consumer()
    fence = fence_of(consumer)

    async def seek_if_current() -> bool:
        return fence.seek_if_current(tp, offset, epoch, lambda: aiokafka_consumer.seek(tp, offset))

    try:
        await thread.call_thread(seek_if_current)
    except Exception as err:  # revoked meanwhile: its new owner starts from the committed offset
        log.warning("could not seek %s back to %d: %r", tp, offset, err)


async def _drain_messages(self: Consumer, fetcher: Any) -> None:  # pragma: no cover - upstream's loop, fenced
    callback = self.callback
    getmany = self.getmany
    consumer_should_stop = self._stopped.is_set
    fetcher_should_stop = fetcher._stopped.is_set
    set_read_offset = self._read_offset.__setitem__
    acks_enabled_for = self.app.topics.acks_enabled_for
    fence = fence_of(self)
    num_since_yield = 0
    try:
        while not (consumer_should_stop() or fetcher_should_stop()):
            self.diag.set_flag(consumer_module.CONSUMER_FETCHING)
            ait = getmany(timeout=1.0)
            await self.sleep(0)
            if not self.should_stop:
                async for tp, message in ait:
                    num_since_yield += 1
                    if num_since_yield > 100:
                        await asyncio.sleep(0)
                        num_since_yield = 0
                    if fence.is_stale(tp):
                        continue  # fetched before a seek: re-delivered from the new position
                    offset, expected = message.offset, fence.expected(tp)
                    if expected is not None and offset < expected:
                        continue  # already handed over since the last seek
                    if expected is not None and offset > expected and acks_enabled_for(message.topic):
                        has_records = await broker_has_records(self, tp, expected, offset)
                        if fence.is_stale(tp):
                            continue  # a seek came in while the broker was asked: it decides now
                        if has_records:
                            log.warning("fetch of %s jumped from %d to %d over records: re-reading them",
                                        tp, expected, offset)
                            await _seek_back(self, tp, expected, fence.batch_epoch(tp))
                            continue
                        await _add_gap(self, tp, expected, offset - 1)  # compacted or transaction markers
                    if self._commit_every is not None and self._n_acked >= self._commit_every:
                        self._n_acked = 0
                        await self.commit()
                        if fence.is_stale(tp):
                            continue
                    await self.wait_first(callback(message), self.suspend_flow.wait())
                    if fence.delivered(tp, offset):
                        set_read_offset(tp, offset)
                self.diag.unset_flag(consumer_module.CONSUMER_FETCHING)
    except self.consumer_stopped_errors:
        if self.transport.app.should_stop:
            self.log.info("Broker stopped consumer, shutting down...")
            return
        raise
    except asyncio.CancelledError:
        if self.transport.app.should_stop:
            self.log.info("Consumer shutting down for user cancel.")
            return
        raise
    except Exception as exc:
        self.log.exception("Drain messages raised: %r", exc)
        raise
    finally:
        self.diag.unset_flag(consumer_module.CONSUMER_FETCHING)


def _stream_partitions(recovery: Recovery) -> set[TP]:
    return {tp for tp in recovery.app.consumer.assignment() if not recovery._is_changelog_tp(tp)}


async def _seek_streams_then_resume(recovery: Recovery) -> None:
    """Upstream resumes the stream partitions, then seeks them, then clears the stream buffers: records fetched from
    the new position in between are cleared and never re-delivered. Here: seek, clear, and only then resume them."""
    app, consumer = recovery.app, recovery.app.consumer
    if consumer.assignment():
        recovery.log.info("Seek stream partitions to committed offsets.")
        await recovery._wait(consumer.perform_seek(), timeout=app.conf.broker_request_timeout)
    recovery.completed.set()
    app.flow_control.resume()  # clears the stream buffers: nothing of the stream partitions is fetched yet
    consumer.resume_partitions(_stream_partitions(recovery))
    consumer.resume_flow()
    await cast(Any, app)._fetcher.maybe_start()
    recovery.tables.on_actives_ready()


async def _on_recovery_completed(self: Recovery, generation_id: int = 0) -> None:
    """``Recovery.on_recovery_completed`` of 0.15.3 with the stream partitions resumed after their seek."""
    self.log.info("Restore complete!")
    await self.app.on_rebalance_complete.send()
    self._set_recovery_ended()
    callbacks = [asyncio.ensure_future(table.on_recovery_completed(self.actives_for_table[table],
                                                                   self.standbys_for_table[table]))
                 for table in self.tables.values()]
    if callbacks:
        await asyncio.wait(callbacks)
    if self.app.consumer_generation_id != generation_id:
        self.log.warning(f"Recovery rebalancing again app id {self.app.consumer_generation_id} "
                         f"param {generation_id}")
        return
    await _seek_streams_then_resume(self)
    if not self.app.assignor.assigned_standbys():
        self.tables.on_standbys_ready()
    self.app.on_rebalance_end()
    self.log.info("Worker ready")


async def _resume_streams(self: Recovery, generation_id: int = 0) -> None:
    """``Recovery._resume_streams`` of 0.15.3 (no recovery needed) with the same order."""
    await self.app.on_rebalance_complete.send()
    if self.app.consumer_generation_id != generation_id:
        self.log.warning("Recovery rebalancing again")
        return
    await _seek_streams_then_resume(self)
    self.tables.on_standbys_ready()
    self.app.on_rebalance_end()
    self.log.info("Worker ready")


_upstream_new_offset = Consumer._new_offset
_upstream_revoked = Consumer.on_partitions_revoked


async def _on_partitions_revoked(self: Consumer, revoked: set[TP]) -> None:
    fence_of(self).forget(revoked)
    await _upstream_revoked(self, revoked)


def install_consumer_patch() -> None:
    """Apply the patch once; refuses a faust-streaming release it was not written against."""
    if faust.__version__ != SUPPORTED_FAUST:
        raise RuntimeError(f"app/faust_offsets_patch.py is written for faust-streaming {SUPPORTED_FAUST}, "
                           f"found {faust.__version__}: re-run tests/integration/test_consumer_takeover.py")
    if getattr(Consumer, "_offset_fence_installed", False):
        return
    driver.AIOKafkaConsumerThread._fetch_records = _fetch_records  # type: ignore[method-assign]
    driver.AIOKafkaConsumerThread.seek_to_committed = _seek_to_committed  # type: ignore[method-assign]
    driver.AIOKafkaConsumerThread._seek_wait = _seek_wait_fenced  # type: ignore[method-assign]
    ThreadDelegateConsumer._seek = _seek_through_thread  # type: ignore[method-assign]
    Consumer._new_offset = _new_offset  # type: ignore[method-assign]
    Consumer._add_gap = _add_gap  # type: ignore[method-assign]
    Consumer._drain_messages = _drain_messages  # type: ignore[method-assign]
    Consumer.on_partitions_revoked = _on_partitions_revoked  # type: ignore[method-assign]
    Recovery.on_recovery_completed = _on_recovery_completed  # type: ignore[method-assign]
    Recovery._resume_streams = _resume_streams  # type: ignore[method-assign]
    Consumer._offset_fence_installed = True  # type: ignore[attr-defined]
