"""The one Faust app and its topics. Agents and tables import from here.

Keys are strings on the wire (raw UTF-8) everywhere, so a table and the topic feeding it agree on partitions and the
ops views route a key to the worker that owns it. Values are raw bytes parsed with pydantic by the agents: a value
that does not parse is a dead letter with a reason, not a crash and not a silent skip.
"""

from __future__ import annotations

from collections.abc import Awaitable

import faust
from faust.types import RecordMetadata
from pydantic import BaseModel

from app.domain.wire import wire
from app.metrics import RebalanceSensor
from app.schema_registry import schema_headers
from app.settings import settings

app = faust.App(
    settings.app_id,
    broker=settings.broker_url,
    store=settings.store,
    datadir=str(settings.data_dir / "faust" / settings.app_id),
    topic_partitions=settings.partitions,
    topic_replication_factor=settings.replication,
    web_host=settings.web_host,
    web_bind=settings.web_host,  # Faust binds 0.0.0.0 unless told: the ops API listens where it is configured
    # Faust's own /table/{name}/{key} and /router views would answer any caller with raw table values (guest
    # references, sealed codes' metadata, saga state) beside the token-checked ops API: off.
    web_tables_enabled=False,
    web_router_enabled=False,
    web_port=settings.web_port,
    canonical_url=settings.canonical_url,
    autodiscover=False,
    producer_acks=-1,
    consumer_auto_offset_reset="earliest",
    key_serializer="raw",
    value_serializer="raw",
    table_standby_replicas=settings.standby_replicas,
    consumer_group_instance_id=settings.group_instance_id or None,  # static membership (docs/DEPLOYMENT_TOPOLOGY.md)
    broker_session_timeout=settings.session_timeout_s,
    broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 4),
    broker_commit_every=100,
    broker_commit_interval=settings.commit_interval_s,
)
app.sensors.add(RebalanceSensor())  # lis_rebalance_seconds, lis_table_recovery_seconds


def _topic(name: str) -> faust.TopicT:
    return app.topic(settings.topic(name), key_type=str, value_type=bytes, partitions=settings.partitions)


pms_reservations = _topic("pms.reservations")
lock_commands = _topic("lock.commands")
lock_events = _topic("lock.events")
lock_dlq = _topic("lock.dlq")
lock_audit = _topic("lock.audit")
audit_anchors = _topic("lock.audit-anchors")
vendor_webhooks = _topic("vendor.webhooks")
ops_commands = _topic("ops.commands")


async def send_model(topic: faust.TopicT, key: str, model: BaseModel) -> Awaitable[RecordMetadata]:
    """Send ``model`` on ``topic``, stamped with its schema id (``lis-schema-id``); the returned future resolves
    when the broker acknowledged it."""
    return await topic.send(key=key, value=wire(model), headers=schema_headers(model))


async def publish_acked(topic: faust.TopicT, key: str, model: BaseModel) -> None:
    """Send ``model`` on ``topic`` and return once the broker acknowledged it: for "the broker acked, then write
    state" (a crash in between replays the input, whose step sends the same record again)."""
    await (await send_model(topic, key, model))
