"""A district's members' facts held at once, or read a part at a time (prints figures; not a test).

Reporting's candidates (四个最美), volunteer hours by team and remote study read the facts of
every member of the subtree. They held them in one list: at 100,000 members, each with a year of
attendance, payments and notices, that is most of a gigabyte in the reporting process. Since 4
December they read a part at a time (`queries.in_parts`, 1,000 members), with only the facts each
needs (`subtree_members(..., only=...)`). This reads the same synthetic district both ways in one
process and prints the time and the process's peak RSS after each (the part-at-a-time read first:
the peak only ever rises). Then it times the alert list's pass over the members, both ways, and
remote study with its home-delivery list, both ways (worked out from the members' facts, or read
from their study rolls), then both from the rolls asked one after the other and at once, as the
dashboard asks for them.

    PYTHONPATH=. .venv/bin/python benchmarks/subtree_read.py [--members 100000]
(MongoDB from MONGODB_URL, default the local stack; a database of its own, dropped afterwards.)
"""
import argparse
import asyncio
import random
import resource
import statistics
import time

from benchmarks.scratch import scratch_db
from services.reporting import queries, study_queries
from services.reporting.adapters.documents import (
    MEMBERS, ORGS, STUDY_ROLL, STUDY_ROLL_VERSION, facts_from_doc, study_roll,
)
from services.reporting.domain import alerts as al
from services.reporting.domain.candidates import merge_rankings, rank_members
from shared.periods import parse_period

YEAR = 2025
BRANCHES = 2223


def facts(i: int, rng: random.Random) -> dict:
    """A member's facts after a year, about as the simulator's district makes them."""
    b = f"b{i % BRANCHES}"
    days = [f"{YEAR}-{m:02d}-{rng.randint(1, 28):02d}" for m in range(1, 13)]
    return {"_id": f"m{i:06d}", "branches": [b], "facts": {
        "name": "王秀英", "branch_id": b, "registered_on": "2020-01-01", "lives_alone": False, "health": "good",
        "specialist_id": None, "died_on": None, "transfers": [], "away": [], "returns": [], "exempt": [],
        "attendance": {f"a{i}-{k}": {"held_on": d, "kind": "themed_party_day", "status": "present", "mode": "in_person"}
                       for k, d in enumerate(days)},
        "payments": {f"p{i}-{k}": {"months": [d[:7]], "cents": 2400, "paid_on": d} for k, d in enumerate(days)},
        "hours": {f"h{i}-{k}": {"on": d, "hundredths": 200, "team": "爱心义剪"} for k, d in enumerate(days[:4])},
        "visits": {f"v{i}-{k}": d for k, d in enumerate(days[:3])},
        "notices": {f"n{k:03d}": {"addressed_on": f"{YEAR}-{k % 12 + 1:02d}-01", "acked_on": None} for k in range(50)},
        "evaluations": {str(YEAR): "qualified"}, "dues_paid_through": None}}


async def use_rolls(db, on: bool) -> None:
    """Remote study with the members' study rolls, or as before them (4 December): no member marked
    as stored with one, and no roll where the read looks."""
    await db[MEMBERS].update_many({}, {"$set": {"study_roll": STUDY_ROLL_VERSION if on else None}})
    names = await db.list_collection_names()
    if on and "study_roll_off" in names:
        await db["study_roll_off"].rename(STUDY_ROLL)
    if not on and STUDY_ROLL in names:
        await db[STUDY_ROLL].rename("study_roll_off")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main(members: int) -> None:
    async with scratch_db("bench_subtree") as (_client, db):
        await db[MEMBERS].create_index("branches")
        rng = random.Random(3)
        started = time.perf_counter()
        for start in range(0, members, 500):
            await db[MEMBERS].insert_many([facts(i, rng) for i in range(start, min(members, start + 500))])
        print(f"{members:,} members' facts written in {time.perf_counter() - started:.1f} s")
        branches = [{"_id": f"b{k}", "name": f"{k}支部"} for k in range(BRANCHES)]
        args = (YEAR, f"{YEAR}-12-31", {b["_id"]: b["name"] for b in branches}, {}, {})

        before = peak_mb()
        t = time.perf_counter()
        only = (*queries.STINTS, "name", "attendance", "evaluations", "hours")
        parts = merge_rankings([rank_members(part, *args)
                                async for part in queries.in_parts(queries.subtree_members(db, branches, only=only))])
        in_parts_s, after_parts = time.perf_counter() - t, peak_mb()

        t = time.perf_counter()
        held = [f async for f in queries.subtree_members(db, branches)]
        whole = rank_members(held, *args)
        held_s = time.perf_counter() - t
        assert parts == whole, "the same candidates both ways"
        print(f"candidates over {members:,} members: a part at a time {in_parts_s:.1f} s, peak RSS {before:,.0f} → "
              f"{after_parts:,.0f} MB; held at once {held_s:.1f} s, peak RSS → {peak_mb():,.0f} MB")
        del held

        # The alert list's pass over the members, alternately: every fact, copied (as before), or
        # the facts member_alerts weighs, as read (queries.alerts since 4 December)
        times: dict[str, list[float]] = {"every fact, copied": [], "its facts, as read": []}
        for _ in range(3):
            for name in times:
                t = time.perf_counter()
                if name == "every fact, copied":
                    async for doc in db[MEMBERS].find({}, {"facts": 1}):
                        al.member_alerts(facts_from_doc(doc, doc["_id"]), f"{YEAR}-12-31", records_start=f"{YEAR}-01-01")
                else:
                    async for f in queries.subtree_members(db, branches, only=(*al.MEMBER_ALERT_FACTS, "name")):
                        al.member_alerts(f, f"{YEAR}-12-31", records_start=f"{YEAR}-01-01")
                times[name].append(time.perf_counter() - t)
        a_, b_ = (statistics.median(v) for v in times.values())
        print(f"alerts over {members:,} members, median of 3: every fact, copied {a_:.1f} s; the facts member_alerts "
              f"weighs, as read {b_:.1f} s ({b_ / a_:.2f}×)")

        # Remote study and its home-delivery list (the dashboard asks for both at every load),
        # alternately: worked out from the facts they weigh in `members` (until 4 December, and
        # still for a member stored without a roll), or read from the members' study rolls
        await db[ORGS].insert_many([{"_id": "d", "name": "区", "kind": "district", "ancestors": []},
                                    *({**b, "kind": "branch", "ancestors": ["d"]} for b in branches)])
        await db[STUDY_ROLL].create_index("branches")
        await db[MEMBERS].create_index("study_roll")
        for start in range(0, members, 1000):  # as handlers.py stores them, beside the members
            part = {"_id": {"$gte": f"m{start:06d}", "$lt": f"m{start + 1000:06d}"}}
            docs = await db[MEMBERS].find(part).to_list(None)
            await db[STUDY_ROLL].insert_many([study_roll(facts_from_doc(d, d["_id"])) for d in docs])
        district, period = await queries.org(db, "d"), parse_period(str(YEAR))

        times = {"worked out from the facts": [], "read from the rolls": []}
        answers = {}
        for _ in range(3):
            for name in times:
                await use_rolls(db, name == "read from the rolls")
                t = time.perf_counter()
                answers[name] = (await study_queries.study(db, district, period, f"{YEAR}-12-31"),
                                 await study_queries.home_delivery(db, district, period, f"{YEAR}-12-31"))
                times[name].append(time.perf_counter() - t)
        assert answers["worked out from the facts"] == answers["read from the rolls"], "the same figures both ways"
        a_, b_ = (statistics.median(v) for v in times.values())
        print(f"remote study and home delivery over {members:,} members, median of 3: worked out from the facts "
              f"{a_:.1f} s; read from the rolls {b_:.1f} s ({b_ / a_:.2f}×)")

        # As the dashboard asks for them: both at once (one pass answers both), or one after the other
        await use_rolls(db, True)
        times = {"one after the other": [], "at once": []}
        for _ in range(3):
            for name in times:
                both = (study_queries.study(db, district, period, f"{YEAR}-12-31"),
                        study_queries.home_delivery(db, district, period, f"{YEAR}-12-31"))
                t = time.perf_counter()
                if name == "at once":
                    answers[name] = tuple(await asyncio.gather(*both))
                else:
                    answers[name] = (await both[0], await both[1])
                times[name].append(time.perf_counter() - t)
        assert answers["at once"] == answers["one after the other"] == answers["read from the rolls"]
        a_, b_ = (statistics.median(v) for v in times.values())
        print(f"remote study and home delivery from the rolls, median of 3: one after the other {a_:.1f} s; "
              f"asked at once {b_:.1f} s ({b_ / a_:.2f}×)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=100_000)
    asyncio.run(main(ap.parse_args().members))
