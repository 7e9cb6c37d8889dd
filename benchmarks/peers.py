"""Two peers to measure the platform against, on the same Kafka and MongoDB (prints figures; not a test).

    python benchmarks/peers.py all FILE          # fills a fresh topic with FILE's commands, runs both
    python benchmarks/peers.py fill FILE TOPIC   # the commands of a `python -m simulator write` file
    python benchmarks/peers.py naive TOPIC N     # consume N records, print one JSON line
    python benchmarks/peers.py ceiling TOPIC N

- naive: the usual first FastStream service — a per-message `KafkaBroker` subscriber, no
  batching, that parses the envelope and awaits one `update_one(..., upsert=True)` per message
  (the aggregate's document, keyed by the record key);
- ceiling: an aiokafka consumer reading batches (`getmany`, as many records as a service's batch)
  and doing one `insert_many` per batch, no logic: what Kafka and the database allow at best.

The topic is filled before the consumer starts; the clock runs from the first record received
to the last one written, so neither the fill nor the group join is counted. Each consumer
writes into a database of its own (`<topic>_<peer>`), dropped afterwards. `benchmarks/end_to_end.py`
runs both as subprocesses, in the same run as the platform, and samples their memory.
"""
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import AsyncMongoClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from simulator.publisher import IN_FLIGHT  # noqa: E402
from simulator.sources import FromFile  # noqa: E402
from shared.kafka_auth import tool_kwargs, tool_security  # noqa: E402

KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
MONGO = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/")
PARTITIONS = int(os.environ.get("TOPIC_PARTITIONS", "4"))  # as the services' topics
BATCH = int(os.environ.get("BATCH_MAX_RECORDS", "2000"))  # as the services' batches


def _db_name(topic: str, peer: str) -> str:
    return f"{topic}_{peer}".replace(".", "_").replace("-", "_")


async def fill(path: str, topic: str) -> int:
    """Create `topic` and send every command of the file to it, keyed as the simulator keys them."""
    admin = AIOKafkaAdminClient(**tool_kwargs(KAFKA, "admin"))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(**tool_kwargs(KAFKA, "admin"), acks="all", enable_idempotence=True,
                                linger_ms=20, max_batch_size=512 * 1024)
    await producer.start()
    n, pending = 0, []
    try:
        for phase in FromFile(path).phases():
            for c in phase.commands:
                value = json.dumps(c.envelope, ensure_ascii=False).encode()
                pending.append(await producer.send(topic, value, key=c.key.encode()))
                n += 1
                if len(pending) >= IN_FLIGHT:
                    await asyncio.gather(*pending)
                    pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return n


class _Clock:
    def __init__(self, expected: int):
        self.expected, self.n = expected, 0
        self.first: float | None = None
        self.last: float | None = None
        self.done = asyncio.Event()

    def received(self) -> None:
        if self.first is None:
            self.first = time.monotonic()

    def written(self, k: int = 1) -> None:
        self.n += k
        if self.n >= self.expected:
            self.last = time.monotonic()
            self.done.set()

    def result(self, peer: str) -> dict:
        seconds = self.last - self.first
        return {"peer": peer, "messages": self.n, "seconds": round(seconds, 3),
                "messages_per_second": round(self.n / seconds, 1)}


async def naive(topic: str, expected: int, timeout: float = 1800) -> dict:
    """One FastStream subscriber, one awaited upsert per message."""
    from faststream.kafka import KafkaBroker
    from faststream.kafka.annotations import KafkaMessage

    client = AsyncMongoClient(MONGO)
    coll = client[_db_name(topic, "naive")]["state"]
    clock = _Clock(expected)
    broker = KafkaBroker(KAFKA, logger=None, security=tool_security(KAFKA, "admin"))  # no per-message log lines: the peer at its fastest

    @broker.subscriber(topic, group_id=f"{topic}-naive", auto_offset_reset="earliest")
    async def handle(msg: KafkaMessage) -> None:
        clock.received()
        env = json.loads(msg.body)
        key = msg.raw_message.key.decode()
        await coll.update_one({"_id": key}, {"$set": {"type": env["type"], "last": env["id"],
                                                     "data": env["data"]}, "$inc": {"n": 1}}, upsert=True)
        clock.written()

    await broker.start()
    try:
        await asyncio.wait_for(clock.done.wait(), timeout)
    finally:
        await broker.stop()
        await client.drop_database(coll.database.name)
        await client.close()
    return clock.result("naive")


async def ceiling(topic: str, expected: int, timeout: float = 1800) -> dict:
    """Batches from aiokafka, one insert_many each: no parsing, no transaction, no events."""
    client = AsyncMongoClient(MONGO)
    coll = client[_db_name(topic, "ceiling")]["records"]
    clock = _Clock(expected)
    consumer = AIOKafkaConsumer(topic, **tool_kwargs(KAFKA, "admin"), group_id=f"{topic}-ceiling",
                                auto_offset_reset="earliest", max_poll_records=BATCH)
    await consumer.start()
    deadline = time.monotonic() + timeout
    try:
        while not clock.done.is_set() and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200, max_records=BATCH)
            records = [r for recs in batches.values() for r in recs]
            if not records:
                continue
            clock.received()
            await coll.insert_many([{"p": r.partition, "o": r.offset, "k": r.key, "v": r.value} for r in records])
            clock.written(len(records))
    finally:
        await consumer.stop()
        await client.drop_database(coll.database.name)
        await client.close()
    if not clock.done.is_set():
        raise TimeoutError(f"ceiling: {clock.n} of {expected} records in {timeout}s")
    return clock.result("ceiling")


async def delete_topic(topic: str) -> None:
    admin = AIOKafkaAdminClient(**tool_kwargs(KAFKA, "admin"))
    await admin.start()
    try:
        await admin.delete_topics([topic])
    finally:
        await admin.close()


async def _all(path: str) -> None:
    topic = f"peers{uuid.uuid4().hex[:6]}.commands"
    n = await fill(path, topic)
    try:
        for peer in (naive, ceiling):
            print(json.dumps(await peer(topic, n)), flush=True)
    finally:
        await delete_topic(topic)


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd = argv[1]
    if cmd == "all":
        asyncio.run(_all(argv[2]))
    elif cmd == "fill":
        print(json.dumps({"topic": argv[3], "messages": asyncio.run(fill(argv[2], argv[3]))}))
    elif cmd in ("naive", "ceiling"):
        peer = naive if cmd == "naive" else ceiling
        print(json.dumps(asyncio.run(peer(argv[2], int(argv[3])))), flush=True)
    elif cmd == "delete":
        asyncio.run(delete_topic(argv[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
