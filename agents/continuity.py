"""Every stateful agent checks that each record continues its source partition, independently of Faust's offsets.

``admitted`` before the step: a jump over records the broker still holds is counted
(``lis_stream_gaps_total{topic}``), logged once with its range, and repaired by seeking the partition back to the
first missing offset — the record is dropped and everything from the hole on is read again (every step is
idempotent). ``processed`` after the step, next to the state write, moves the agent's ledger (and appends to the
processed-offset file when ``LIS_PROCESSED_LEDGER`` is set, for soak runs and incident forensics). A timer does
the same for partitions that receive nothing new: a committed offset past the ledger is a hole no record would
reveal.
"""

from __future__ import annotations

import logging
import os
import time

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from faust.exceptions import ConsumerNotStarted
from faust.types import TP, EventT

from app.domain.stream_continuity import Continuity, continuity_of, ledger_key
from app.faust_offsets_patch import broker_has_records
from app.metrics import STREAM_GAPS
from app.settings import settings
from app.streams import app, lock_commands, ops_commands, pms_reservations, vendor_webhooks
from app.worker_state import worker_state
from tables.stream_offsets import last_processed, record_processed

log = logging.getLogger(__name__)
# While a partition's hole is re-read, records behind it are dropped unasked for this long (counted and logged once);
# past that, a record behind the hole asks the broker and seeks again.
REPAIR_PATIENCE_S = 30.0


async def admitted(event: EventT[bytes]) -> bool:
    """False when the record jumped over records no worker processed: the partition was sought back."""
    message, watch = event.message, worker_state().continuity
    verdict = continuity_of(await _last_processed(message.tp), message.offset)
    if verdict.continuity is not Continuity.JUMP:
        watch.repairing.pop(message.tp, None)
        return True
    repairing = watch.repairing.get(message.tp)
    if repairing is not None and repairing[0] == verdict.missing_from and time.monotonic() < repairing[1]:
        return False  # buffered behind a hole already being re-read: dropped, it comes again in order
    if not await broker_has_records(app.consumer, message.tp, verdict.missing_from, verdict.missing_to):
        return True  # compacted away or transaction markers: nothing was skipped
    await _repair(message.tp, verdict.missing_from, verdict.missing_to)
    return False


async def _last_processed(tp: TP) -> int | None:
    """The ledger's last offset of ``tp``; before its first record, the offset before the log's start: a partition
    no worker ever processed must be read from its beginning. None when no broker can be asked (Faust's
    ``test_context``)."""
    last, log_start = last_processed(ledger_key(tp.topic, tp.partition)), worker_state().continuity.log_start
    if last is None:
        if tp not in log_start:
            try:
                log_start[tp] = (await app.consumer.earliest_offsets(tp)).get(tp, 0)
            except ConsumerNotStarted:
                return None
        last = log_start[tp] - 1
    return last


async def _repair(tp: TP, missing_from: int, missing_to: int) -> None:
    """Seek ``tp`` back to the hole — or to Faust's committed offset when that is further back, since Faust commits
    only from there — counting and logging each hole once."""
    repairing = worker_state().continuity.repairing
    if repairing.get(tp, (None, 0.0))[0] != missing_from:
        STREAM_GAPS.labels(tp.topic).inc()
        log.error("%s[%d] jumped from %d to %d over records no worker processed: seeking back and re-reading",
                  tp.topic, tp.partition, missing_from, missing_to)
    repairing[tp] = (missing_from, time.monotonic() + REPAIR_PATIENCE_S)
    committed = getattr(app.consumer, "_committed_offset", {}).get(tp)
    target = min(missing_from, committed) if committed is not None else missing_from
    try:
        await app.consumer.seek(tp, target)
    except (KafkaError, AssertionError, ConsumerNotStarted) as err:  # revoked meanwhile: its new owner re-checks
        log.warning("could not seek %s[%d] back to %d: %r", tp.topic, tp.partition, missing_from, err)


@app.timer(interval=settings.continuity_scan_s)  # type: ignore[untyped-decorator]  # faust's timer is untyped
async def check_idle_partitions() -> None:
    """Repair a partition whose group offset is committed past its ledger (records skipped, none arriving)."""
    stateful = {topic.get_topic_name() for topic in (pms_reservations, lock_commands, ops_commands, vendor_webhooks)}
    assigned = [tp for tp in app.consumer.assignment() if tp.topic in stateful]
    if not assigned:
        return
    try:
        committed = await _group_offsets()
    except (KafkaError, OSError) as err:  # a broker outage: the next tick asks again
        log.warning("offset ledger check postponed: %s", err)
        return
    for tp in assigned:
        last, offset = await _last_processed(tp), committed.get(tp)
        if last is None or offset is None or offset <= last + 1:
            continue
        if await broker_has_records(app.consumer, tp, last + 1, offset):
            await _repair(tp, last + 1, offset)


async def _group_offsets() -> dict[TP, int]:
    watch = worker_state().continuity
    if watch.admin is None:
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
        await admin.start()  # kept only once started: a failed start is tried again on the next tick
        watch.admin = admin
    offsets = await watch.admin.list_consumer_group_offsets(app.conf.id)
    return {TP(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items() if meta.offset >= 0}


def processed(event: EventT[bytes]) -> None:
    """Record that the step of ``event`` ran; call it in the same step as the agent's state write."""
    message = event.message
    record_processed(ledger_key(message.topic, message.partition), message.offset)
    if settings.processed_ledger is not None:
        with settings.processed_ledger.open("a") as ledger:
            ledger.write(f"{message.topic} {message.partition} {message.offset} {os.getpid()}\n")
