"""A throw-away database for a benchmark that runs in its own process (MONGODB_URL, default the
local stack), dropped afterwards whatever happens."""
import os
import uuid
from contextlib import asynccontextmanager

from pymongo import AsyncMongoClient


@asynccontextmanager
async def scratch_db(prefix: str):
    """(client, db): a database of its own, named `<prefix>_<random>`."""
    client = AsyncMongoClient(os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/"), tz_aware=True)
    db = client[f"{prefix}_{uuid.uuid4().hex[:6]}"]
    try:
        yield client, db
    finally:
        await client.drop_database(db.name)
        await client.close()
