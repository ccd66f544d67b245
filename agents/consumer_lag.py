"""``lis_consumer_lag``: how far the worker's consumer group is behind each partition it consumes, every 15 s."""

from __future__ import annotations

import logging

from aiokafka.errors import KafkaError

from app.infra.consumer_lag import group_lag
from app.metrics import CONSUMER_LAG
from app.settings import settings
from app.streams import app, lock_audit, lock_commands, ops_commands, pms_reservations, vendor_webhooks

log = logging.getLogger(__name__)
CONSUMED = (pms_reservations, lock_commands, lock_audit, vendor_webhooks, ops_commands)  # the agents' topics
LAG_INTERVAL_S = 15.0


@app.timer(interval=LAG_INTERVAL_S)  # type: ignore[untyped-decorator]  # faust's timer is untyped
async def export_consumer_lag() -> None:
    """Read the group's lag from the broker and export it, labelled by the topic's name without its prefix."""
    names = {topic.get_topic_name(): topic.get_topic_name().removeprefix(settings.topic_prefix) for topic in CONSUMED}
    try:
        lags = await group_lag(settings.kafka_bootstrap_servers, settings.app_id, list(names))
    except (KafkaError, OSError) as err:  # a broker outage must not end the timer: read again on the next tick
        log.warning("consumer lag not read: %s", err)
        return
    for tp, lag in lags.items():
        CONSUMER_LAG.labels(names[tp.topic], str(tp.partition)).set(lag)
