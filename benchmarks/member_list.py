"""A page of a subtree's member list, read whole or read as a page (prints figures; not a test).

`GET /api/v1/orgs/{id}/members` read every member of the subtree, made every row and sorted them,
to answer 50: a district official's first page read the whole district. Since 4 December a list
without a `status` filter is paged in the database (`adapters/queries.py` `members_page`, index
`org_path, name, _id`); a `status` (worked out from each member's dates as of the day) reads the
subtree through, one member at a time, keeping only the page. This times both ways over the same members, alternately, in one process against
one database, so the ratio holds on a shared machine whatever its load.

    PYTHONPATH=. .venv/bin/python benchmarks/member_list.py [--members 100000] [--rounds 20]
(MongoDB from MONGODB_URL, default the local stack; a database of its own, dropped afterwards.)
"""
import argparse
import asyncio
import random
import resource
import statistics
import time

from benchmarks.scratch import scratch_db
from services.members.adapters import documents, queries
from services.members.adapters.documents import MEMBERS, member_from_doc, member_to_doc
from services.members.domain import ledger
from services.members.domain.member import Member

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "秀英桂兰建国德明淑珍玉兰志强国华丽华春梅永红文静海燕"
DAY = "2025-11-01"


def a_member(i: int, rng: random.Random, branches: int) -> dict:
    b = i % branches
    path = ["d", f"s{b % 10}", f"c{b % 100}", f"b{b}"]
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    m = Member(member_id=f"m{i:06d}", branch_id=f"b{b}", registered_on="2020-01-01", org_path=path,
               profile={"name": name, "gender": rng.choice(("male", "female")), "birth_date": "1950-05-01",
                        "phone": "13800000000", "health": "fair", "lives_alone": rng.random() < 0.2})
    return {**member_to_doc(m), "_v": 1}


def rows(docs: list[dict]) -> list[dict]:
    return [ledger.summary(member_from_doc(d), DAY) for d in docs]


async def main(members: int, rounds: int, page_size: int) -> None:
    async with scratch_db("bench_member_list") as (_client, db):
        await documents.setup(db)
        rng = random.Random(7)
        started = time.perf_counter()
        for start in range(0, members, 5_000):
            await db[MEMBERS].insert_many([a_member(i, rng, max(1, members // 40))
                                           for i in range(start, min(members, start + 5_000))])
        print(f"{members:,} members written in {time.perf_counter() - started:.1f} s")

        async def whole(org_id: str) -> list[dict]:  # as before: every member read, the page cut after
            everyone = sorted(rows(await db[MEMBERS].find({"org_path": org_id}).to_list(None)),
                              key=lambda r: (r["name"] or "", r["member_id"]))
            return everyone[:page_size]

        async def by_status(org_id: str) -> list[dict]:  # a status filter: read through, a page kept
            kept = []
            async for d in queries.each_member(db, {"org_path": org_id}):
                m = member_from_doc(d)
                if m.status_on(DAY) == "resident" and len(kept) < page_size:
                    kept.append(ledger.summary(m, DAY))
            return kept

        async def paged(org_id: str) -> list[dict]:
            docs, _total = await queries.members_page(db, {"org_path": org_id}, 0, page_size)
            return rows(docs)

        def max_rss_mb() -> float:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        # Memory first, paged before whole: the process's peak only ever rises.
        before = max_rss_mb()
        await paged("d")
        after_paged = max_rss_mb()
        await by_status("d")
        after_status = max_rss_mb()
        await whole("d")
        print(f"the district's first page: peak RSS {before:,.0f} MB before, {after_paged:,.0f} MB after reading it "
              f"paged, {after_status:,.0f} MB after reading it through for a status, {max_rss_mb():,.0f} MB after "
              f"reading it whole")
        for org_id, who in (("d", "the district"), ("c0", "a community"), ("b0", "a branch")):
            a = await whole(org_id)
            b = await paged(org_id)
            assert [r["member_id"] for r in a] == [r["member_id"] for r in b], "the same first page both ways"
            times: dict[str, list[float]] = {"whole": [], "paged": []}
            for _ in range(rounds):
                for name, way in (("whole", whole), ("paged", paged)):
                    t = time.perf_counter()
                    await way(org_id)
                    times[name].append((time.perf_counter() - t) * 1000)
            w, p = statistics.median(times["whole"]), statistics.median(times["paged"])
            n = await db[MEMBERS].count_documents({"org_path": org_id})
            print(f"{who} ({n:,} members), first page of {page_size}: read whole p50 {w:,.1f} ms, "
                  f"paged p50 {p:,.1f} ms ({p / w:.3f}×), {rounds} rounds each")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--page-size", type=int, default=50)
    args = ap.parse_args()
    asyncio.run(main(args.members, args.rounds, args.page_size))
