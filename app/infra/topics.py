"""Creating the service's topics with the partition count the tables rely on."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

TOPICS = ("pms.reservations", "lock.commands", "lock.events", "lock.dlq")


async def ensure_topics(bootstrap: str, *, prefix: str = "", partitions: int = 4, replication: int = 1) -> None:
    """Create every topic of the service that does not exist yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [NewTopic(f"{prefix}{name}", partitions, replication) for name in TOPICS
                  if f"{prefix}{name}" not in existing]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass  # created concurrently by a worker
    finally:
        await admin.close()
