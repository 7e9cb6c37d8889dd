"""The four services with a 100,000-member district's ledger (prints figures; not a test).

The simulator's district of `--members` members, its ledger only (the tree, the registrations,
the specialists, the away periods, the opening dues and the rest of the ledger phases: some
295,000 commands at 100,000 members), published phase by phase as `make demo` does, into the four
services under a fresh prefix. Prints the time until every consumer's lag and outbox are 0, the
commands per second, and each service's maximum RSS and CPU seconds: the figures the 100,000-member
rows of the README's table need (a whole year at that size takes hours here).

With `--notice`, once the ledger is at rest, one notice to the whole district asking for
acknowledgement (the simulator's monthly district notice): the same figures again for what it
costs until the platform is at rest once more. Reporting hears it as one `NoticeAddressed` per
branch, each naming the branch's members.

    PYTHONPATH=. KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 MONGODB_URL=mongodb://127.0.0.1:27017/ \\
        .venv/bin/python benchmarks/district_ledger.py --members 100000
"""
import argparse
import asyncio
import itertools
import json
import os
import time
from datetime import date

import httpx

from benchmarks.end_to_end import SERVICES, Platform, Sampler, at_rest, db_time, server_pids
from services.reporting.adapters.documents import MEMBERS, STUDY_ROLL_VERSION
from simulator.progress import Progress
from simulator.publisher import Target, publish
from simulator.sources import Generated
from simulator.commands import Factory, at
from simulator.year import DEPARTMENT, LEDGER_PHASES, Phase


class Ledger:
    """The simulator's district, its ledger phases only."""

    def __init__(self, source: Generated):
        self.source, self.correlation_id = source, source.correlation_id
        self.header = {**source.header, "phases": LEDGER_PHASES}

    def phases(self):
        return itertools.islice(self.source.phases(), LEDGER_PHASES)


class DistrictNotice:
    """One notice to the whole district, asking for acknowledgement, as a source of one phase."""

    def __init__(self, source: Generated):
        world, y = source.world, source.world.year
        self.correlation_id, self.year, self.district = source.correlation_id, y, world.district.org_id
        self.header = {**source.header, "phases": 1}
        nid = world.ids.of("n", "bench")
        self.command = Factory(world.ids, source.correlation_id)("SendNotice", nid, {
            "notice_id": nid, "title": f"{y}年1月 全区党员学习通知", "body": "请全体党员按时参加学习。",
            "category": "study", "audience": {"org_ids": [world.district.org_id], "member_ids": []},
            "require_ack": True, "send_at": at(date(y, 1, 20), 10).isoformat()}, at(date(y, 1, 20), 10), DEPARTMENT)

    def phases(self):
        return iter([Phase("全区通知", [self.command])])


def _records(metrics: dict | None) -> float:
    return sum((metrics or {}).get("records", {}).values())


async def watch_database(platform: Platform, every_s: float) -> None:
    """Every `every_s`, where the database's time went since the last print, and the commands
    handled meanwhile: a query whose mean grows with the district shows up here."""
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=5) as http:
        before = await platform.all_metrics(http)
        while True:
            await asyncio.sleep(every_s)
            # A service too busy to answer the scrape keeps its last figures (counted next time).
            now = {n: m or before.get(n) for n, m in (await platform.all_metrics(http)).items()}
            handled = sum(_records(m) - _records(before.get(n)) for n, m in now.items())
            print(f"[{time.monotonic() - started:.0f}s] {handled:.0f} records consumed in {every_s:.0f}s; "
                  "database time:", flush=True)
            for line in db_time(before, now, top=6):
                print(f"    {line}", flush=True)
            before = now


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--year", type=int, default=2025)
    ap.add_argument("--keep-topics", action="store_true",
                    help="keep the run's topics (its prefix is printed), e.g. to time a reporting rebuild over them")
    ap.add_argument("--every", type=float, default=60, help="seconds between prints of where the database's time went")
    ap.add_argument("--wait", type=float, default=3600, help="seconds to wait for the services to be at rest")
    ap.add_argument("--notice", action="store_true", help="then one notice to the whole district asking for "
                    "acknowledgement, timed and measured until the platform is at rest again")
    ap.add_argument("--study", action="store_true", help="then time the district's remote study and home-delivery "
                    "list through the service, as the dashboard asks for them (both at once), from the members' "
                    "study rolls and worked out from their facts")
    args = ap.parse_args()
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    mongo = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/")
    t = time.perf_counter()
    source = Ledger(Generated(args.seed, args.members, args.year))
    print(f"district of {args.members} members drawn in {time.perf_counter() - t:.1f}s", flush=True)
    platform = Platform(kafka, mongo, {"RECORDS_START": f"{args.year}-01-01"})
    await platform.start()
    try:
        sampler = Sampler({n: p.pid for n, p in platform.procs.items()} | server_pids(kafka, mongo), every_s=1)
        watch = asyncio.create_task(watch_database(platform, args.every))
        try:
            run = await publish(source, Target(kafka, platform.prefix, stall_timeout=900),
                                Progress(LEDGER_PHASES, quiet=True))
            answered = time.monotonic() - run["started_at"]
            rest = await at_rest(platform, run["started_at"], args.wait)
        finally:
            watch.cancel()
        sampler.mark()
        res = await sampler.stop()
        async with httpx.AsyncClient(timeout=30, headers=platform.headers) as http:
            r = await http.get(platform.urls["reporting"] + "/api/v1/orgs/" + source.source.world.district.org_id
                               + "/report", params={"period": f"{args.year}-01", "as_of": f"{args.year}-01-01"})
            registered = r.json()["members"]["registered"] if r.status_code == 200 else r.status_code
        print(json.dumps({"members": args.members, "commands": run["commands"],
                          "answered after s": round(answered, 1),
                          "at rest after s": round(rest, 1) if rest else None,
                          "commands per second (to rest)": round(run["commands"] / rest, 1) if rest else None,
                          "rejected": {k: v["count"] for k, v in run["rejected"].items()},
                          "district registered (reporting)": registered,
                          "max RSS MB": {n: res["rss_max_mb"].get(n) for n in [*SERVICES, "kafka", "database"]},
                          "CPU s": res["cpu_s"]}, ensure_ascii=False, indent=1), flush=True)
        if args.notice:
            await time_notice(platform, DistrictNotice(source.source), kafka, mongo, args.wait)
        if args.study:
            await time_study(platform, source.source.world.district.org_id, args.year)
    finally:
        platform.stop()
        if args.keep_topics:
            print(f"topics kept under prefix {platform.prefix}", flush=True)
            await platform.drop_databases()
        else:
            await platform.drop()


async def time_notice(platform: Platform, notice: DistrictNotice, kafka: str, mongo: str, wait_s: float) -> None:
    """The district notice, from its publish until the platform is at rest: each service's maximum
    RSS and CPU seconds in that time alone."""
    sampler = Sampler({n: p.pid for n, p in platform.procs.items()} | server_pids(kafka, mongo), every_s=1)
    run = await publish(notice, Target(kafka, platform.prefix, stall_timeout=900), Progress(1, quiet=True))
    rest = await at_rest(platform, run["started_at"], wait_s)
    sampler.mark()
    res = await sampler.stop()
    notice_id, y = notice.command.envelope["data"]["notice_id"], notice.year
    async with httpx.AsyncClient(timeout=60, headers=platform.headers) as http:
        created = (await http.get(f"{platform.urls['notifications']}/api/v1/notices/{notice_id}")).json()
        before = (await http.get(f"{platform.urls['reporting']}/api/v1/orgs/{notice.district}/report",
                                 params={"period": f"{y}-01", "as_of": f"{y}-01-19"})).json()
        after = (await http.get(f"{platform.urls['reporting']}/api/v1/orgs/{notice.district}/report",
                                params={"period": f"{y}-01", "as_of": f"{y}-01-31"})).json()
    print(json.dumps({"district notice": notice_id,
                      "at rest after s": round(rest, 1) if rest else None,
                      "recipients (notifications)": len(created.get("recipients", [])),
                      "January's notices sent, before and after it (reporting, the district)":
                          [before["notices"]["sent"], after["notices"]["sent"]],
                      "max RSS MB": {n: res["rss_max_mb"].get(n) for n in [*SERVICES, "kafka", "database"]},
                      "CPU s": res["cpu_s"]}, ensure_ascii=False, indent=1), flush=True)


async def time_study(platform: Platform, district: str, year: int) -> None:
    """The district's remote study and home-delivery list through reporting's HTTP API, asked at
    once as the dashboard asks for them, three times from the study rolls the handlers wrote, then
    three times worked out from the facts (every member's roll version cleared, as in a database
    written before the rolls; here their rolls are still read, and passed over), then the rolls
    again; the answers equal every time."""
    from pymongo import AsyncMongoClient

    url = f"{platform.urls['reporting']}/api/v1/orgs/{district}"
    params = {"period": str(year), "as_of": f"{year}-12-31"}
    db = AsyncMongoClient(platform.mongo)[f"{platform.db_prefix}reporting"]
    answers = set()
    async with httpx.AsyncClient(timeout=600, headers=platform.headers) as http:
        for how in ("from the rolls", "worked out from the facts", "from the rolls"):
            rolls = None if how.startswith("worked") else STUDY_ROLL_VERSION
            await db[MEMBERS].update_many({}, {"$set": {"study_roll": rolls}})
            times = []
            for _ in range(3):
                t = time.perf_counter()
                study, home = await asyncio.gather(http.get(url + "/study", params=params),
                                                   http.get(url + "/study/home-delivery", params=params))
                times.append(time.perf_counter() - t)
                answers.add(json.dumps([study.json(), home.json()], sort_keys=True))
            print(f"remote study and home delivery of the district, asked at once, {how}: "
                  f"{', '.join(f'{x:.1f}' for x in times)} s", flush=True)
    print(f"the same answers every time: {len(answers) == 1}", flush=True)
    await db.client.close()


if __name__ == "__main__":
    asyncio.run(main())
