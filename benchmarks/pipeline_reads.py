"""A batch's first reads, one after the other or side by side (prints figures; not a test).

Before the handlers run, a batch asks the database three things: which of its message ids the
inbox has seen, which of its keys have a command held, and the documents its records name
(`Pipeline._batch`). They were asked one after the other; since 4 December they are asked at once.
This times both ways over the same batches, alternately, in one process against one database, so
the ratio holds on a shared machine whatever its load.

    PYTHONPATH=. .venv/bin/python benchmarks/pipeline_reads.py [--batch 250] [--rounds 200]
(MongoDB from MONGODB_URL, default the local stack; a database of its own, dropped afterwards.)
"""
import argparse
import asyncio
import random
import statistics
import time

from benchmarks.scratch import scratch_db
from shared.messaging import parking
from shared.messaging.mongo_uow import MongoStore, inbox_of

DOCS = 20_000  # members and branches' documents in the database, as a district's


async def main(batch: int, rounds: int) -> None:
    async with scratch_db("bench_reads") as (client, db):
        store = MongoStore(client, db)
        ids = [f"msg-{i}" for i in range(DOCS)]
        await store.setup(["commands"])
        seen_ids = ids[: DOCS // 2]
        await db[inbox_of("commands")].insert_many([{"ids": seen_ids[i:i + 2000]} for i in range(0, len(seen_ids), 2000)])
        await db["members"].insert_many([{"_id": f"m-{i}", "_v": 1, "facts": {"name": "王秀英", "n": i}}
                                         for i in range(DOCS)])
        await db["orgs"].insert_many([{"_id": f"b-{i}", "_v": 1, "name": f"支部{i}"} for i in range(500)])
        await db["_parked_commands"].insert_many([{"_id": f"p-{i}", "key": f"m-{i * 7}"} for i in range(200)])
        await db["_parked_commands"].create_index("key")
        rng = random.Random(7)

        def a_batch():
            members = rng.sample(range(DOCS), batch)
            return ([f"msg-{rng.randrange(DOCS)}" for _ in members],
                    {f"m-{m}" for m in members},
                    [("members", f"m-{m}") for m in members] + [("orgs", f"b-{m % 500}") for m in members])

        async def one_after_the_other(msg_ids, keys, wants):
            await store.seen("commands", msg_ids)
            await store.unit().prefetch(wants)
            await parking.keys_waiting(db["_parked_commands"], keys)

        async def at_once(msg_ids, keys, wants):
            await asyncio.gather(store.seen("commands", msg_ids), parking.keys_waiting(db["_parked_commands"], keys),
                                 store.unit().prefetch(wants))

        times = {"one after the other": [], "at once": []}
        for r in range(rounds):
            b = a_batch()
            ways = [("one after the other", one_after_the_other), ("at once", at_once)]
            for name, way in (ways if r % 2 else ways[::-1]):
                t = time.perf_counter()
                await way(*b)
                times[name].append((time.perf_counter() - t) * 1000)
        print(f"{rounds} batches of {batch} records, each read both ways (alternating which goes first):")
        for name, ts in times.items():
            q = statistics.quantiles(ts, n=100)
            print(f"  {name:20} p50 {q[49]:6.1f} ms   p90 {q[89]:6.1f} ms")
        ratios = [b / a for a, b in zip(times["one after the other"], times["at once"])]
        print(f"  at once / one after the other, per batch: median {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--rounds", type=int, default=200)
    a = ap.parse_args()
    asyncio.run(main(a.batch, a.rounds))
