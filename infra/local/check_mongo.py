"""Checks that a MongoDB-wire server does what the services rely on.

    .venv/bin/python infra/local/check_mongo.py [URL]     (default: $MONGODB_URL, else 127.0.0.1:27017)

Meant for operators: run it against the local SecantusDB (`make up` starts it) or against a real
MongoDB replica set. Every check works in a fresh database `sunsetred_check_<random>`, dropped at
the end. Prints one line per check and exits 1 if any failed. See docs/secantusdb.md.
"""
import asyncio
import os
import sys
import time
import uuid
from datetime import datetime, timezone

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError

TRANSIENT = "TransientTransactionError"


async def check_ping(client, db):
    started = time.perf_counter()
    reply = await client.admin.command("ping")
    assert reply.get("ok") == 1, reply
    return f"{(time.perf_counter() - started) * 1000:.1f} ms"


async def check_hello(client, db):
    hello = await client.admin.command("hello")
    assert hello.get("setName"), f"no setName in hello (not a replica set: no transactions): {hello}"
    assert hello.get("isWritablePrimary"), "not a writable primary"
    assert hello.get("logicalSessionTimeoutMinutes") is not None, "no sessions (no transactions)"
    return f"setName {hello['setName']!r}, maxWireVersion {hello.get('maxWireVersion')}"


async def check_transaction_commit(client, db):
    coll = db.txn
    async with client.start_session() as s:
        async with await s.start_transaction():
            await coll.insert_one({"_id": "a", "n": 1}, session=s)
            await coll.insert_one({"_id": "b", "n": 2}, session=s)
            # Snapshot isolation: what the transaction wrote is invisible outside until commit.
            outside = await coll.count_documents({})
            assert outside == 0, f"uncommitted writes visible outside the transaction: {outside}"
    got = sorted([d["_id"] async for d in coll.find({})])
    assert got == ["a", "b"], got
    return "two inserts committed together, invisible before commit"


async def check_transaction_abort(client, db):
    coll = db.txn_abort
    await coll.insert_one({"_id": "x", "n": 0})
    async with client.start_session() as s:
        await s.start_transaction()
        await coll.update_one({"_id": "x"}, {"$inc": {"n": 5}}, session=s)
        await coll.insert_one({"_id": "y"}, session=s)
        await s.abort_transaction()
    docs = [d async for d in coll.find({})]
    assert docs == [{"_id": "x", "n": 0}], docs
    return "update and insert rolled back"


async def check_with_transaction(client, db):
    coll = db.txn_callback

    async def body(s):
        await coll.insert_one({"_id": 1}, session=s)
        await coll.update_one({"_id": 1}, {"$set": {"done": True}}, session=s)

    async with client.start_session() as s:
        await s.with_transaction(body)
    assert await coll.find_one({"_id": 1}) == {"_id": 1, "done": True}
    return "ClientSession.with_transaction"


async def check_write_conflict(client, db):
    coll = db.conflict
    await coll.insert_one({"_id": 1, "n": 0})
    s1, s2 = client.start_session(), client.start_session()
    try:
        await s1.start_transaction()
        await s2.start_transaction()
        await coll.update_one({"_id": 1}, {"$inc": {"n": 1}}, session=s1)
        try:
            await asyncio.wait_for(coll.update_one({"_id": 1}, {"$inc": {"n": 10}}, session=s2), 10)
        except OperationFailure as e:
            assert e.has_error_label(TRANSIENT), f"error without the {TRANSIENT} label: {e.details}"
            detail = f"second writer refused: code {e.code} ({e.details.get('codeName')}), {TRANSIENT}"
        else:
            raise AssertionError("a second transaction wrote the same document without an error")
        await s2.abort_transaction()
        await s1.commit_transaction()
    finally:
        await s1.end_session()
        await s2.end_session()
    doc = await coll.find_one({"_id": 1})
    assert doc["n"] == 1, doc
    return detail


async def check_indexes(client, db):
    coll = db.indexes
    ttl = await coll.create_index("expires_at", expireAfterSeconds=0)
    unique = await coll.create_index([("org", ASCENDING), ("member", ASCENDING)], unique=True)
    # Creating the same index again is a no-op, as on MongoDB.
    assert await coll.create_index("expires_at", expireAfterSeconds=0) == ttl
    info = await coll.index_information()
    assert info[ttl].get("expireAfterSeconds") == 0, info[ttl]
    assert info[unique].get("unique") is True, info[unique]
    await coll.insert_one({"org": "b1", "member": "m1", "expires_at": datetime(2100, 1, 1, tzinfo=timezone.utc)})
    await coll.insert_one({"org": "b1", "member": "m2"})
    try:
        await coll.insert_one({"org": "b1", "member": "m1"})
    except DuplicateKeyError:
        pass
    else:
        raise AssertionError("the unique compound index accepted a duplicate")
    plan = await coll.find({"org": "b1", "member": "m2"}).explain()
    stages = str(plan.get("queryPlanner", {}).get("winningPlan"))
    assert "IXSCAN" in stages, f"the compound index is not used: {stages}"
    return f"TTL {ttl!r}, unique {unique!r} (duplicate refused, IXSCAN)"


async def check_group(client, db):
    coll = db.group
    docs = [{"branch": f"b{i % 3}", "kind": "meeting" if i % 2 else "visit", "hours": i, "people": 2 * i}
            for i in range(30)]
    await coll.insert_many(docs)
    want = {}
    for d in docs:
        w = want.setdefault((d["branch"], d["kind"]), [0, 0, 0])
        w[0] += d["hours"]; w[1] += d["people"]; w[2] += 1
    cursor = await coll.aggregate([
        {"$group": {"_id": {"branch": "$branch", "kind": "$kind"},
                    "hours": {"$sum": "$hours"}, "people": {"$sum": "$people"}, "n": {"$sum": 1}}},
    ])
    got = {(r["_id"]["branch"], r["_id"]["kind"]): [r["hours"], r["people"], r["n"]]
           async for r in cursor}
    assert got == want, f"$group: {got} != {want}"
    return f"{len(got)} groups, compound _id and three $sum right"


CHECKS = [
    ("ping", check_ping),
    ("hello (replica set)", check_hello),
    ("transaction commit", check_transaction_commit),
    ("transaction abort", check_transaction_abort),
    ("with_transaction", check_with_transaction),
    ("write conflict", check_write_conflict),
    ("TTL and unique compound index", check_indexes),
    ("$group with several $sum", check_group),
]


async def main(url: str) -> int:
    client = AsyncMongoClient(url, serverSelectionTimeoutMS=5000)
    db = client[f"sunsetred_check_{uuid.uuid4().hex[:8]}"]
    failed = 0
    try:
        for name, check in CHECKS:
            try:
                detail = await check(client, db)
                print(f"ok    {name}: {detail}")
            except (AssertionError, PyMongoError, asyncio.TimeoutError) as e:
                failed += 1
                print(f"FAIL  {name}: {type(e).__name__}: {e}")
    finally:
        try:
            await client.drop_database(db.name)
        finally:
            await client.close()
    print(f"{len(CHECKS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/")
    sys.exit(asyncio.run(main(target)))
