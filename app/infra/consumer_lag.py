"""How far a consumer group is behind each partition of its topics: the partition's end offset minus the group's
committed offset, both read from the broker (as kafka-exporter reads them), so the figure holds whoever owns the
partition and survives the worker that reports it. A partition the group never committed lags by all it holds."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CoordinatorLoadInProgressError, CoordinatorNotAvailableError, NotCoordinatorError
from aiokafka.structs import OffsetAndMetadata
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_fixed

# While the broker sets up the group's coordinator (the first group of a new cluster, a coordinator moving), the
# question is asked again: the answer comes within seconds.
COORDINATOR_SETTLING = (CoordinatorLoadInProgressError, CoordinatorNotAvailableError, NotCoordinatorError)


async def group_lag(bootstrap: str, group: str, topics: list[str], *, timeout_s: float = 10.0
                    ) -> dict[TopicPartition, int]:
    """Per partition of ``topics``, how many records ``group`` has not committed past."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    ends_reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                   request_timeout_ms=int(timeout_s * 1000))
    await admin.start()
    try:
        await ends_reader.start()
        described = await admin.describe_topics(topics)
        partitions = [TopicPartition(topic["topic"], part["partition"]) for topic in described
                      if topic["error_code"] == 0 for part in topic["partitions"]]
        committed = await _committed(admin, group, partitions, timeout_s)
        ends = await ends_reader.end_offsets(partitions)
    finally:
        await ends_reader.stop()
        await admin.close()
    return {tp: max(ends[tp] - max(committed[tp].offset if tp in committed else 0, 0), 0) for tp in partitions}


async def _committed(admin: AIOKafkaAdminClient, group: str, partitions: list[TopicPartition], timeout_s: float
                     ) -> dict[TopicPartition, OffsetAndMetadata]:
    committed: dict[TopicPartition, OffsetAndMetadata] = {}
    async for attempt in AsyncRetrying(retry=retry_if_exception_type(COORDINATOR_SETTLING), reraise=True,
                                       stop=stop_after_delay(timeout_s), wait=wait_fixed(0.5)):
        with attempt:
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
    return committed
