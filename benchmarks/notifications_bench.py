"""How fast a notice's status and a specialist's door list answer at 100,000 members (prints figures; not a test).

Builds a throw-away notifications database the way the service would hold it after a district-wide
notice: the tree (a district, communities, `--branches` branches), `--members` members (each with a
specialist, `--per-specialist` members a specialist), one notice to all of them and a delivery per
member in a mix of states (delivered, door work pending, door done, acknowledged). Then it calls the
two routes' functions in process (the queries, masking and shaping; not the HTTP framing), as a
district official and as a branch secretary, and prints p50 and p99 of each:

- `GET /notices/{id}/status` — the summary of all recipients and the first page (500), then a later
  page (`after=`), and a page filtered by state;
- `GET /specialists/{id}/door-deliveries` — one specialist's pending visits and calls.

    PYTHONPATH=. .venv/bin/python benchmarks/notifications_bench.py --members 100000
"""
import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from types import SimpleNamespace

from pymongo import AsyncMongoClient

from services.notifications.adapters.documents import DELIVERIES, DELIVERY_TALLY, MEMBERS, NOTICES, ORGS, setup
from services.notifications.entrypoints import routes
from shared.auth.claims import Caller
from shared.auth.masking import Viewer
from shared.messaging.mongo_uow import MongoStore


async def build(db, members: int, branches: int, per_specialist: int, rng: random.Random) -> dict:
    district, communities = "d", [f"c{k}" for k in range(max(1, branches // 10))]
    orgs = [{"_id": district, "kind": "district", "name": "区", "ancestors": []}]
    orgs += [{"_id": c, "kind": "community", "name": c, "ancestors": [district]} for c in communities]
    branch_ids = [f"b{k:04d}" for k in range(branches)]
    orgs += [{"_id": b, "kind": "branch", "name": b, "ancestors": [district, communities[k % len(communities)]]}
             for k, b in enumerate(branch_ids)]
    await db[ORGS].insert_many(orgs)
    notice_id = "n-district"
    await db[NOTICES].insert_one({"_id": notice_id, "title": "关于学习贯彻全会精神的通知", "category": "document",
                                  "require_ack": True, "addressed_on": "2026-03-02", "recipients": []})
    batch_m, batch_d = [], []
    for k in range(members):
        mid, branch, sp = f"m{k:06d}", branch_ids[k % branches], f"sp{k // per_specialist:04d}"
        batch_m.append({"_id": mid, "name": f"党员{k}", "branch_id": branch, "specialist_id": sp,
                        "lives_alone": k % 7 == 0, "health": "行动不便" if k % 11 == 0 else None,
                        "contacts": {"phone": f"138{k:08d}"}})
        roll = rng.random()
        state = ("delivered" if roll < 0.6 else "door_assigned" if roll < 0.8 else
                 "door_done" if roll < 0.9 else "acknowledged")
        attempts = ([{"channel": "sms", "attempt": 1, "state": "delivered", "started_at": "2026-03-02T02:00:00Z",
                      "finished_at": "2026-03-02T02:00:01Z", "error": None, "transport": "http"}]
                    if state in ("delivered", "acknowledged") else [])
        door = ({"channel": "door", "specialist_id": sp, "assigned_at": f"2026-03-02T02:{k % 60:02d}:00Z"}
                if state.startswith("door") else None)
        if state == "door_done":
            door |= {"completed_on": "2026-03-05", "completed_by": sp}
        batch_d.append({"_id": f"{notice_id}|{mid}", "notice_id": notice_id, "member_id": mid, "branch_id": branch,
                        "addressed_on": "2026-03-02", "plan": ["sms", "door"], "index": 0 if attempts else 1,
                        "attempt": 1, "state": state, "next_at": None, "held": None, "attempts": attempts,
                        "specialist_id": sp, "door": door,
                        "acknowledged": {"on": "2026-03-03", "channel": "sms"} if state == "acknowledged" else None,
                        "contacts": {"phone": f"138{k:08d}"}, "correlation_id": None, "preferred": "sms",
                        "channel": "door" if door else "sms"})
        if len(batch_d) == 5000:
            await db[MEMBERS].insert_many(batch_m)
            await db[DELIVERIES].insert_many(batch_d)
            batch_m, batch_d = [], []
    if batch_d:
        await db[MEMBERS].insert_many(batch_m)
        await db[DELIVERIES].insert_many(batch_d)
    return {"notice": notice_id, "branch": branch_ids[0], "specialist": "sp0001",
            "middle": f"{branch_ids[branches // 2]}.m{members // 2:06d}"}  # a page cursor (branch.member)


async def timed(label: str, call, repeat: int) -> None:
    await call()  # warm
    laps = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = await call()
        laps.append((time.perf_counter() - t) * 1000)
    laps.sort()
    p99 = laps[min(len(laps) - 1, int(len(laps) * 0.99))]
    print(f"{label:<62} p50 {statistics.median(laps):7.1f} ms   p99 {p99:7.1f} ms   ({out})")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--branches", type=int, default=400)
    ap.add_argument("--per-specialist", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=40)
    args = ap.parse_args()
    client = AsyncMongoClient(os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/"))
    db = client[f"nbench_{uuid.uuid4().hex[:6]}"]
    try:
        await setup(db)
        t = time.perf_counter()
        ids = await build(db, args.members, args.branches, args.per_specialist, random.Random(7))
        print(f"built {args.members} members and deliveries in {time.perf_counter() - t:.0f} s")
        # Written around the unit of work, so the notice's tallies are counted as a service does
        # when it first starts on deliveries that have none (once, at start-up).
        t = time.perf_counter()
        await MongoStore(client, db, tallies=[DELIVERY_TALLY]).setup([])
        print(f"counted the tallies of {args.members} deliveries (first start-up) in {time.perf_counter() - t:.1f} s")
        request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(runtime=SimpleNamespace(db=db))))
        district = Viewer(Caller(subject="bench", role="district"))
        secretary = Viewer(Caller(subject="bench", role="secretary", org_ids=(ids["branch"],)))

        def status(who, **kw):
            async def call():
                r = await routes.notice_status(ids["notice"], request, who, **{"state": None, "after": None,
                                                                                "limit": 500, **kw})
                return f"{len(r['recipients'])} listed of {r['summary']['recipients']}"
            return call

        def door(who):
            async def call():
                return f"{len((await routes.door_deliveries(ids['specialist'], request, who, page=1, page_size=500))['pending'])} pending"
            return call

        await timed("notice status, district: summary + first page of 500", status(district), args.repeat)
        await timed("notice status, district: a page in the middle", status(district, after=ids["middle"]), args.repeat)
        await timed("notice status, district: door work pending only", status(district, state="door_assigned"),
                    args.repeat)
        await timed("notice status, a branch secretary (own branch)", status(secretary), args.repeat)

        async def before_tallies():
            """The same answer as before the tallies (for the ratio within this run): the summary a
            `$group` over the notice's deliveries, the page by member id over the whole notice."""
            delivered = {"$filter": {"input": {"$ifNull": ["$attempts", []]}, "as": "a",
                                     "cond": {"$eq": ["$$a.state", "delivered"]}}}
            rows = await (await db[DELIVERIES].aggregate([
                {"$match": {"notice_id": ids["notice"]}},
                {"$group": {"_id": "$state", "n": {"$sum": 1},
                            "reached": {"$sum": {"$cond": [{"$gt": [{"$size": delivered}, 0]}, 1, 0]}}}}])).to_list(None)
            page = await db[DELIVERIES].find({"notice_id": ids["notice"]}).sort("member_id", 1).limit(501).to_list(None)
            return f"{len(page) - 1} listed of {sum(r['n'] for r in rows)} (queries only)"
        await timed("  for comparison, the way before (a $group + a page by member id)", before_tallies, max(5, args.repeat // 4))
        await timed("door deliveries of one specialist, district", door(district), args.repeat)
    finally:
        await client.drop_database(db.name)
        await client.close()


if __name__ == "__main__":
    asyncio.run(main())
