"""The memory a unit of work's commit takes, for a batch that rewrites many documents (prints
figures; not a test).

    PYTHONPATH=. .venv/bin/python benchmarks/commit_memory.py [--documents 20000] [--source sunsetred_reporting.members]

Copies `--documents` documents of `--source` (default: synthetic members of about 4 KB, the size of
reporting's) into a scratch database, reads them all in one unit of work (kept encoded, as
reporting keeps its members), changes a field of each, and commits them in one transaction
(`MongoStore.commit`). Printed: the documents' stored MB, the commit's seconds, and the Python
memory it allocated beyond what the unit of work held before it (tracemalloc's peak: the encoded
writes and the driver's message buffers), without tracemalloc with `--untraced`.
"""
import argparse
import asyncio
import time
import tracemalloc

import bson

from benchmarks.scratch import scratch_db
from shared.messaging.mongo_uow import MongoStore

COLL = "docs"


def synthetic(i: int) -> dict:
    """About 4 KB of BSON, nested like a reporting member: months of facts."""
    months = {f"2025-{m:02d}": {"paid": 3 * m, "due": 30, "attended": [f"a-{i}-{m}-{k}" for k in range(6)],
                                "study": {"minutes": 40 + m, "items": [f"s-{k}" for k in range(4)]}}
              for m in range(1, 13)}
    return {"_id": f"m-{i:07d}", "org_id": f"b-{i % 2000:05d}", "name": "测试党员", "months": months, "seen": 0}


async def copy_source(client, db, source: str | None, n: int) -> int:
    if source:
        src_db, src_coll = source.split(".", 1)
        docs = await client[src_db][src_coll].find({}, limit=n).to_list(None)
    else:
        docs = [synthetic(i) for i in range(n)]
    for d in docs:
        d["_v"] = 1  # as every document the platform writes
    size = sum(len(bson.encode(d)) for d in docs)
    for start in range(0, len(docs), 1000):
        await db[COLL].insert_many(docs[start:start + 1000])
    return size


async def main(args) -> None:
    async with scratch_db("commitmem") as (client, db):
        stored = await copy_source(client, db, args.source, args.documents)
        ids = [d["_id"] async for d in db[COLL].find({}, {"_id": 1})]
        store = MongoStore(client, db, kept_encoded=frozenset({COLL}) if not args.decoded else frozenset())
        uow = store.unit()
        await uow.prefetch((COLL, i) for i in ids)
        for i in ids:
            doc = await uow.get(COLL, i)
            doc["seen"] = doc.get("seen", 0) + 1
            uow.put(COLL, doc)
        uow.commit_message()
        if not args.untraced:
            tracemalloc.start()
        before, _ = tracemalloc.get_traced_memory()
        wall = time.perf_counter()
        await store.commit(uow, "bench", [])
        wall = time.perf_counter() - wall
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        changed = await db[COLL].count_documents({"_v": 2})
        allocated = "memory not traced" if args.untraced else f"{(peak - before) / 2**20:.1f} MB allocated at its peak"
        print(f"{len(ids)} documents, {stored / 2**20:.1f} MB stored, {changed} written; commit {wall:.2f} s, "
              f"{allocated} beyond the unit of work")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--documents", type=int, default=20000)
    ap.add_argument("--source", help="db.collection to copy documents from (default: synthetic members)")
    ap.add_argument("--untraced", action="store_true", help="time the commit without tracemalloc (which slows it)")
    ap.add_argument("--decoded", action="store_true", help="keep the documents decoded (as members, activities and notifications keep theirs)")
    asyncio.run(main(ap.parse_args()))
