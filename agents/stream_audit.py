"""The periodic end-to-end stream audit (``app/stream_audit.py``) on the one worker that owns partition 0 of
``pms.reservations``: differences are logged, exported as ``lis_stream_audit_differences{problem}`` and re-driven."""

from __future__ import annotations

import logging
from collections import Counter

from aiokafka.errors import KafkaError

from app.domain.stream_audit import Problem
from app.metrics import STREAM_AUDIT_DIFFERENCES
from app.settings import settings
from app.stream_audit import audit_stream
from app.streams import app, pms_reservations

log = logging.getLogger(__name__)


@app.timer(interval=settings.stream_audit_s)  # type: ignore[untyped-decorator]  # faust's timer is untyped
async def audit_the_stream() -> None:
    if not any(tp.topic == pms_reservations.get_topic_name() and tp.partition == 0
               for tp in app.consumer.assignment()):
        return  # one auditor per consumer group
    try:
        report = await audit_stream(None, redrive=True)
    except (KafkaError, TimeoutError) as err:
        log.warning("stream audit postponed: %s", err)
        return
    counts = Counter(difference.problem for difference in report.differences)
    for problem in Problem:
        STREAM_AUDIT_DIFFERENCES.labels(problem.value).set(counts[problem])
    for difference in report.differences:
        log.error("stream audit: %s: %s (%s), re-driven", difference.stay, difference.problem, difference.detail)
