"""Leases: which instance of a service does a piece of background work now.

A lease is one document per name. Taking it is a single conditional upsert: it succeeds when
the lease is free, expired, or already ours; when another instance holds it, the upsert's
insert hits the unique `_id` and we learn that we do not hold it. No in-process lock is
involved, so this holds across any number of instances.
"""
from datetime import datetime, timedelta, timezone
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from shared.messaging.mongo_uow import LEASES


async def acquire(db: Any, name: str, owner: str, ttl_s: float) -> bool:
    now = datetime.now(timezone.utc)
    try:
        doc = await db[LEASES].find_one_and_update(
            {"_id": name, "$or": [{"until": {"$lt": now}}, {"owner": owner}]},
            {"$set": {"owner": owner, "until": now + timedelta(seconds=ttl_s), "taken_at": now}},
            upsert=True, return_document=ReturnDocument.AFTER)
    except DuplicateKeyError:
        return False
    return doc is not None and doc.get("owner") == owner


async def release(db: Any, name: str, owner: str) -> None:
    await db[LEASES].delete_one({"_id": name, "owner": owner})
