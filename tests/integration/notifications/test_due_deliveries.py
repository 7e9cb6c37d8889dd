"""The worker's due deliveries from one query kept open across its rounds, on the real database
(services/notifications/adapters/due_deliveries.py)."""
import uuid
from datetime import datetime, timezone

import pytest
from pymongo import AsyncMongoClient

from services.notifications.adapters.documents import DELIVERIES
from services.notifications.adapters.due_deliveries import DueDeliveries


@pytest.fixture
async def db(infra):
    client = AsyncMongoClient(infra.mongo, tz_aware=True)
    db = client[f"due_{uuid.uuid4().hex[:8]}"]
    yield db
    await client.drop_database(db.name)
    await client.close()


def _pending(i: int, state: str = "pending") -> dict:
    return {"_id": f"n|m{i:02d}", "state": state, "next_at": f"2026-03-02T08:{i:02d}:00.000000+00:00"}


async def test_pages_come_from_one_query_until_it_runs_out_then_the_next_asks_again(db):
    await db[DELIVERIES].create_index([("state", 1), ("next_at", 1)])
    await db[DELIVERIES].insert_many([_pending(i) for i in range(25)] + [_pending(30, "delivered")])
    now = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    due = DueDeliveries(db, page_size=10)
    first, second = await due.page(now), await due.page(now)
    assert [d["_id"] for d in first + second] == [f"n|m{i:02d}" for i in range(20)]  # earliest first, none twice
    await db[DELIVERIES].update_many({"_id": {"$in": [d["_id"] for d in first]}}, {"$set": {"state": "sending"}})
    last = await due.page(now)
    assert [d["_id"] for d in last] == [f"n|m{i:02d}" for i in range(20, 25)]  # short: none left in this query
    again = await due.page(now)  # asked again: what the claims took is gone
    assert [d["_id"] for d in again] == [f"n|m{i:02d}" for i in range(10, 20)]


async def test_a_query_older_than_reopen_s_is_asked_again(db):
    await db[DELIVERIES].insert_many([_pending(i) for i in range(25)])
    clock = [0.0]
    due = DueDeliveries(db, page_size=10, reopen_s=30, clock=lambda: clock[0])
    now = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    assert (await due.page(now))[0]["_id"] == "n|m00"
    await db[DELIVERIES].insert_one({**_pending(0), "_id": "n|early", "next_at": "2026-03-02T07:00:00.000000+00:00"})
    clock[0] = 29.0
    assert (await due.page(now))[0]["_id"] == "n|m10"  # the open query goes on
    clock[0] = 30.0
    assert (await due.page(now))[0]["_id"] == "n|early"  # fell due before the backlog: not left behind it
