import uuid

import pytest
from pymongo import AsyncMongoClient

from shared.messaging.mongo_uow import MongoStore


@pytest.fixture
async def store(infra):
    """A unit-of-work store over a database of its own (pipeline `p`), dropped afterwards."""
    client = AsyncMongoClient(infra.mongo, tz_aware=True)
    db = client[f"store_{uuid.uuid4().hex[:8]}"]
    s = MongoStore(client, db)
    await s.setup(["p"])
    yield s
    await client.drop_database(db.name)
    await client.close()
