"""Creating the service's topics, and its tables' changelog topics, with the partition count the tables rely on.

The worker creates them before Faust starts: when Faust creates a changelog topic itself on a first start, its
consumer can keep a metadata snapshot of 0 partitions for it and crash every table write with PartitionsMismatch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

TOPICS = ("pms.reservations", "lock.commands", "lock.events", "lock.dlq", "lock.audit", "lock.audit-anchors",
          "vendor.webhooks", "ops.commands")
TABLES = ("stays", "lock_sagas", "lock_status", "master_keys", "stream_offsets")
# The largest record a PMS may put on pms.reservations (the broker refuses larger ones to the PMS's producer); every
# record up to it is processed or dead-lettered, and a dead letter is far smaller (app/domain/dead_letter.py).
PMS_MAX_RECORD_BYTES = 8 * 1024 * 1024
TOPIC_CONFIGS = {"pms.reservations": {"max.message.bytes": str(PMS_MAX_RECORD_BYTES)}}


async def ensure_topics(bootstrap: str, *, prefix: str = "", partitions: int = 4, replication: int = 1,
                        app_id: str | None = None) -> None:
    """Create every topic of the service (and of ``app_id``'s tables) that does not exist yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await _quietly_started(admin)
    try:
        existing = set(await admin.list_topics())
        wanted = [NewTopic(f"{prefix}{name}", partitions, replication, topic_configs=TOPIC_CONFIGS.get(name, {}))
                  for name in TOPICS]
        if app_id:
            wanted += [NewTopic(f"{app_id}-{table}-changelog", partitions, replication,
                                topic_configs={"cleanup.policy": "compact"}) for table in TABLES]
        missing = [topic for topic in wanted if topic.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # created concurrently by another worker
                await admin.create_topics(missing)
            await _until_led(admin, [topic.name for topic in missing])
    finally:
        await admin.close()


async def _quietly_started(admin: AIOKafkaAdminClient) -> None:
    """Start the admin client without aiokafka's own "Unable connect" log line: a broker that cannot be reached is
    this call's exception (KafkaConnectionError), which the commands explain in one line (app/cli/errors.py)."""
    client_log = logging.getLogger("aiokafka")
    level = client_log.level
    client_log.setLevel(logging.CRITICAL)
    try:
        await admin.start()
    finally:
        client_log.setLevel(level)


async def _until_led(admin: AIOKafkaAdminClient, names: list[str], timeout_s: float = 30.0) -> None:
    """Wait (bounded) until every partition of the new topics has a leader: the first records sent to a topic just
    created otherwise meet NotLeaderForPartition, which the producer retries but logs as an error line."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        described = await admin.describe_topics(names)
        if len(described) == len(names) and all(
                topic["error_code"] == 0 and topic["partitions"]
                and all(part["error_code"] == 0 and part["leader"] >= 0 for part in topic["partitions"])
                for topic in described):
            return
        await asyncio.sleep(0.1)
