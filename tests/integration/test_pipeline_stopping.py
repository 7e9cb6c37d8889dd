"""A pipeline whose service is stopping (finding 38 of docs/reliability.md), on a real replica set.
No Kafka: the records are handed to the pipeline as its subscriber would."""
import asyncio
import json
import logging
import uuid

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import InvalidOperation

from shared.messaging import parking
from shared.messaging.mongo_uow import MongoStore
from shared.messaging.pipeline import Handler, Pipeline
from shared.messaging.records import Incoming
from tests.support.scenario import register

pytestmark = pytest.mark.integration


class Relay:
    async def publish(self, docs):
        pass


async def test_a_batch_that_goes_on_after_its_client_is_closed_fails_whole_at_once(infra, caplog):
    """Finding 38 (docs/reliability.md): a service stopping closes its database client while a
    batch still runs. On a real client, the batch's next read fails it whole: no record is
    handled again, split or dead-lettered, and nothing is logged as the messages' own failure."""
    client = AsyncMongoClient(infra.mongo, tz_aware=True)
    store = MongoStore(client, client[f"closed_{uuid.uuid4().hex[:8]}"])
    await store.setup(["p"])
    closed = asyncio.Event()
    handled: list[str] = []

    async def slow(msg, ctx):
        handled.append(msg.member_id)
        if len(handled) == 1:
            await closed.wait()  # the service closes its client meanwhile
        await ctx.get("members", msg.member_id)
        ctx.put("members", {"_id": msg.member_id})

    p = Pipeline(name="p", service="test", store=store, relay=Relay(), mode="commands",
                 handlers={"RegisterMember": Handler(slow)}, source="sunsetred-test", events_topic="test.events",
                 reference_wait_s=600)
    await parking.setup(store.db[p.parked])
    envs = [register("b-1") for _ in range(3)]
    records = [Incoming("members.commands", 0, i, e["data"]["member_id"].encode(), json.dumps(e).encode())
               for i, e in enumerate(envs)]
    batch = asyncio.ensure_future(p.process(records))
    await asyncio.sleep(0.3)
    await client.close()
    closed.set()
    with caplog.at_level(logging.INFO), pytest.raises(InvalidOperation):
        await batch
    assert len(handled) == 1
    assert not [r for r in caplog.records if r.getMessage() in (
        "handler failed", "batch could not be committed whole: committing it in halves")]
    reader = AsyncMongoClient(infra.mongo)
    await reader.drop_database(store.db.name)
    await reader.close()
