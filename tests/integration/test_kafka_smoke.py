"""First test: produce, consume and commit against the real broker (Kafka 4 with aiokafka)."""
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.kafka_auth import tool_kwargs

pytestmark = pytest.mark.integration


async def test_produce_consume_commit(infra):
    topic = f"smoke-{uuid.uuid4().hex[:8]}"
    group = f"smoke-{uuid.uuid4().hex[:8]}"
    # A topic of its own, outside the contract: only the stack's super user may create one.
    producer = AIOKafkaProducer(**tool_kwargs(infra.kafka, "admin"), enable_idempotence=True)
    await producer.start()
    try:
        for i in range(3):
            await producer.send_and_wait(topic, f"m{i}".encode(), key=b"k")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(topic, **tool_kwargs(infra.kafka, "admin"), group_id=group,
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        got = []
        while len(got) < 3:
            batch = await consumer.getmany(timeout_ms=5000)
            assert batch, "no records within 5 s"
            for records in batch.values():
                got += [r.value for r in records]
        await consumer.commit()
        committed = await consumer.committed(TopicPartition(topic, 0))
    finally:
        await consumer.stop()
    assert got == [b"m0", b"m1", b"m2"]
    assert committed == 3
