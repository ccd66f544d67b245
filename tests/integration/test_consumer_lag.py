"""The consumer lag the worker exports, read from a real broker: records a group has not committed past, per
partition, and all of a partition's records when the group never committed there."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from app.devstack.stack import Stack
from app.infra.consumer_lag import group_lag

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(120)]


async def test_the_lag_is_the_end_offset_minus_the_groups_committed_offset_per_partition(stack: Stack) -> None:
    prefix, group = f"lag{uuid.uuid4().hex[:6]}.", f"lag-group-{uuid.uuid4().hex[:6]}"
    await stack.ensure_topics(prefix, partitions=2)
    topic = f"{prefix}lock.commands"
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for _ in range(10):
            await producer.send_and_wait(topic, value=b"x", partition=0)
        for _ in range(3):
            await producer.send_and_wait(topic, value=b"y", partition=1)
    finally:
        await producer.stop()
    p0, p1 = TopicPartition(topic, 0), TopicPartition(topic, 1)
    assert await group_lag(stack.kafka_bootstrap, group, [topic]) == {p0: 10, p1: 3}, "never committed: all of it"

    committer = AIOKafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, group_id=group, enable_auto_commit=False)
    await committer.start()
    try:
        committer.assign([p0, p1])
        await committer.commit({p0: OffsetAndMetadata(4, ""), p1: OffsetAndMetadata(3, "")})
    finally:
        await committer.stop()
    assert await group_lag(stack.kafka_bootstrap, group, [topic]) == {p0: 6, p1: 0}
