"""How fast a district report answers over 100,000 members (prints figures; not a test).

Builds a fresh, throw-away reporting database the way the projections would (member facts →
contributions → per-organisation documents of day-by-day changes, `figures` and `org_totals`
with the branches counted by settings),
then times the report queries the HTTP routes run, for the district, a community and a branch,
over a month, a quarter and a year, and prints p50 and p99 of each. With `--with-members` it
also stores the members' documents and times a branch's alerts and member list (indexed by
`branches`). Usage (from /work/main, MongoDB or SecantusDB at MONGODB_URL):

    PYTHONPATH=. .venv/bin/python benchmarks/reporting_bench.py --members 100000 --branches 2223

`--keep` prints the database's name and keeps it; `--reuse NAME` times the reports again over it
without building (a minute at 100,000 members), so code before and after a change can be timed
alternately on the same data. `--changes-every S` also asks the district's report every few seconds
while what its sections read changes every S seconds, without and with the background refresh of
the sections (services/reporting/sections_refresh.py).
"""
import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from collections import defaultdict
from datetime import date, timedelta

from pymongo import AsyncMongoClient

from benchmarks.subtree_read import use_rolls
from services.reporting import queries, sections_refresh, study_queries
from services.reporting.adapters.documents import (
    FIGURES, MEMBER_ALERTS, MEMBERS, ORG_TOTALS, ORGS, STUDY_ROLL, alerts_key, facts_from_doc, figures_id,
    figures_year, listed_alerts, member_to_doc, setup, study_roll,
)
from services.reporting.adapters import section_checksums
from services.reporting.adapters.leadership_store import LEADERSHIP, TRAINEES
from services.reporting.domain import alerts as al
from services.reporting.domain.contributions import DAY_SERIES, ledger_contribution, member_contribution
from services.reporting.domain.facts import MemberFacts
from services.reporting.domain.report import settings_key
from services.reporting.section_cache import SECTIONS
from services.reporting.settings import records_start
from shared.messaging.mongo_uow import MongoStore
from shared.periods import parse_period

EVALUATED_ON = "2026-11-30"  # the day the members' stored alerts are of, and the reports' as-of
KINDS = ["branch_assembly", "themed_party_day", "party_lecture", "study", "committee_meeting"]


def day(rng: random.Random, start: date, span_days: int) -> str:
    return (start + timedelta(days=rng.randrange(span_days))).isoformat()


def fake_member(rng: random.Random, i: int, branches: list[str]) -> MemberFacts:
    branch = branches[i % len(branches)]
    m = MemberFacts(f"m{i:06d}", name=f"党员{i}", branch_id=branch, registered_on=day(rng, date(2024, 1, 1), 700),
                    health=rng.choice(["good", "good", "fair", "poor"]), lives_alone=rng.random() < 0.15)
    for k in range(rng.randint(2, 10)):
        m.attendance[f"a{i}-{k}"] = {"held_on": day(rng, date(2026, 1, 1), 330), "kind": rng.choice(KINDS),
                                     "status": rng.choice(["present", "present", "present", "leave", "absent"])}
    for k, first in enumerate((1, 7)):
        months = [f"2026-{mo:02d}" for mo in range(first, first + 6)]
        if rng.random() < 0.85:
            m.payments[f"p{i}-{k}"] = {"months": months, "cents": 14400, "paid_on": f"2026-{first:02d}-1{k}"}
    for k in range(rng.randint(0, 3)):
        m.visits[f"v{i}-{k}"] = day(rng, date(2026, 1, 1), 330)
    m.hours[f"h{i}"] = {"on": day(rng, date(2026, 1, 1), 330), "hundredths": rng.choice([0, 150, 200, 400])}
    for k in range(2):
        m.notices[f"n{k}"] = {"addressed_on": day(rng, date(2026, 1, 1), 300), "acked_on": None}
    if rng.random() < 0.12:  # the Sanya winter
        m.away.append({"from": "2025-12-01", "until": "2026-03-31", "location": "海南三亚"})
    if rng.random() < 0.03:
        m.exempt.append({"from": "2025-06-01", "until": None})
    if rng.random() < 0.01:
        m.died_on = day(rng, date(2026, 1, 1), 300)
    if rng.random() < 0.01:
        m.transfers.append({"on": day(rng, date(2026, 1, 1), 300), "from_branch_id": branch,
                            "to_branch_id": rng.choice(branches)})
    return m


def leadership_docs(rng: random.Random, branches: list[str]) -> tuple[list[dict], list[dict]]:
    """Each branch's leadership (issue 13) as its events leave it: a secretary (one in ten
    replaced during the year, one in twenty never appointed), the committee's posts where there
    is one, a general election, the allowance's rates and monthly payments, last year's
    assessment; and the secretaries' training sessions. What the reports' sections read."""
    leadership, trainees = [], []
    for k, b in enumerate(branches):
        posts, terms, elections = [], [], []
        secretaries = [] if k % 20 == 19 else [f"{b}-s1", *([f"{b}-s2"] if k % 10 == 3 else [])]
        for n, s in enumerate(secretaries):
            until = "2026-06-15" if n == 0 and len(secretaries) > 1 else None
            posts.append({"post": "secretary", "member_id": s, "name": f"书记{k}-{n}",
                          "from": "2026-06-15" if n else "2024-03-01", "until": until})
        if k % 3 == 0:
            for post in ("organization_member", "propaganda_member", "discipline_member")[:1 + k % 3]:
                posts.append({"post": post, "member_id": f"{b}-{post}", "name": post, "from": "2024-03-01",
                              "until": None})
        if k % 2 == 0:
            elections.append({"election_id": f"{b}-e1", "held_on": "2024-03-01", "kind": "general",
                              "eligible": 30, "present": 28})
            terms.append({"election_id": f"{b}-e1", "started_on": "2024-03-01", "ends_on": "2027-02-28"})
        rates = [{"from_month": "2024-03", "amount": "200.00"}, {"from_month": "2026-01", "amount": "250.00"}]
        payments = {f"{b}-p{mo}": {"member_id": secretaries[-1] if secretaries else f"{b}-x",
                                   "paid_on": f"2026-{mo:02d}-20",
                                   "months": [{"month": f"2026-{mo:02d}", "amount": "250.00"}]}
                    for mo in range(1, 12) if secretaries and rng.random() < 0.8}
        assessments = {f"2025|{s}": {"year": 2025, "member_id": s, "name": f"书记{k}",
                                     "result": rng.choice(["excellent", "competent", "basically_competent"])}
                       for s in secretaries[:1]}
        leadership.append({"_id": b, "posts": posts, "terms": terms, "elections": elections, "open_alerts": [],
                           "allowance_rates": rates, "allowance_payments": payments, "assessments": assessments})
        trainees += [{"_id": s, "sessions": {f"t{n}": {"held_on": f"2026-{3 * n + 2:02d}-08", "hours": "2",
                                                         "title": "培训"} for n in range(rng.randint(0, 3))}}
                     for s in secretaries]
    return leadership, trainees


def org_secretary(leadership: dict) -> dict:
    """What a branch's `orgs` document says of its secretary (SecretaryAppointed): the current one."""
    current = [p for p in leadership["posts"] if p["post"] == "secretary" and p["until"] is None]
    return {"secretary_id": current[0]["member_id"], "secretary_name": current[0]["name"]} if current else {}


async def build(db, members: int, n_branches: int, seed: int, with_members: bool) -> tuple[str, str, str]:
    rng = random.Random(seed)
    district, communities = "d-bench", [f"c-{k:02d}" for k in range(max(1, n_branches // 25))]
    orgs = [{"_id": district, "name": "X区", "kind": "district", "ancestors": [], "placed": True}]
    orgs += [{"_id": c, "name": f"社区{k}", "kind": "community", "ancestors": [district], "placed": True}
             for k, c in enumerate(communities)]
    branches = [f"b-{k:04d}" for k in range(n_branches)]
    leadership, trainees = leadership_docs(random.Random(seed + 1), branches)
    orgs += [{"_id": b, "name": f"退休党支部{k:04d}", "kind": "branch", "has_committee": k % 3 == 0,
              "party_groups": k % 4, "ancestors": [district, communities[k % len(communities)]], "placed": True,
              "established_on": "2024-01-01", **org_secretary(leadership[k])}
             for k, b in enumerate(branches)]
    for o in orgs:  # as the projection keeps it (OrganizationEstablished's parent)
        o["parent_id"] = o["ancestors"][-1] if o["ancestors"] else None
    await db[ORGS].insert_many(orgs)
    by_branch: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    member_docs: list[dict] = []
    started = time.perf_counter()

    def add(contribution) -> None:
        for (series, branch, d), fields in contribution.items():
            target = by_branch[(series, branch, d)]
            for f, v in fields.items():
                target[f] += v
    for i in range(members):
        m = fake_member(rng, i, branches)
        c = member_contribution(m)
        add(c)
        if with_members:
            # as the projection stores a member: its alerts as of the day it was evaluated (handlers.py)
            evaluated = [x.to_dict() for x in al.member_alerts(m, EVALUATED_ON)]
            member_docs.append(member_to_doc(m, evaluated, EVALUATED_ON, alerts_key(EVALUATED_ON, records_start())))
    for k, b in enumerate(branches):  # two themed days a month, an assembly and a lecture a quarter
        meetings = [{"activity_id": f"{b}-{mo}-{n}", "kind": "themed_party_day", "day": f"2026-{mo:02d}-{10 + n}"}
                    for mo in range(1, 12) for n in range(2)]
        meetings += [{"activity_id": f"{b}-q{q}-{kind}", "kind": kind, "day": f"2026-{3 * q - 1:02d}-05"}
                     for q in range(1, 5) for kind in ("branch_assembly", "party_lecture")]
        add(ledger_contribution(b, meetings, has_committee=k % 3 == 0, party_groups=k % 4))
    print(f"contributions of {members:,} members and {len(branches)} branches' meetings computed in "
          f"{time.perf_counter() - started:.1f} s")
    # What figure_store's `$inc`s add up to, at once: each branch's changes go to the branch and
    # to every organisation above it, one document per (organisation, series, year), and the
    # status series' yearly totals to the organisation's `org_totals` document.
    path = {o["_id"]: [o["_id"], *o["ancestors"]] for o in orgs if o["kind"] == "branch"}
    docs: dict[str, dict] = {}
    years: dict[str, dict] = {}
    for (series, branch, d), fields in by_branch.items():
        year = figures_year(series, d)
        for org in path[branch]:
            _id = figures_id(org, series, year)
            doc = docs.setdefault(_id, {"_id": _id, "org": org, "series": series, "year": year, "d": {}, "m": {}})
            day, month = doc["d"].setdefault(d, {}), doc["m"].setdefault(d[:7], {})
            for f, v in fields.items():
                day[f] = day.get(f, 0) + v
                month[f] = month.get(f, 0) + v
            if series == DAY_SERIES:
                y = years.setdefault(org, {"_id": org, "years": {}, "touched": {}})
                y["touched"][year] = 1
                totals = y["years"].setdefault(year, {})
                for f, v in fields.items():
                    totals[f] = totals.get(f, 0) + v
    for o in orgs:  # what figure_store.count_branch keeps: the branches below each org by settings
        if o["kind"] == "branch":
            key = settings_key(o["has_committee"], o["party_groups"])
            for org in path[o["_id"]]:
                counts = years.setdefault(org, {"_id": org, "years": {}, "touched": {}}).setdefault("branches", {})
                counts[key] = counts.get(key, 0) + 1
    started = time.perf_counter()
    figure_docs = sorted(docs.values(), key=lambda x: x["_id"])
    for k in range(0, len(figure_docs), 500):
        await db[FIGURES].insert_many(figure_docs[k:k + 500], ordered=False)
    await db[ORG_TOTALS].insert_many(list(years.values()), ordered=False)
    await db[LEADERSHIP].insert_many(leadership, ordered=False)
    await db[TRAINEES].insert_many(trainees, ordered=False)
    print(f"{len(figure_docs):,} figure documents written in {time.perf_counter() - started:.1f} s "
          f"(largest {max(len(str(x)) for x in figure_docs):,} characters)")
    if member_docs:
        started = time.perf_counter()
        for k in range(0, len(member_docs), 1000):
            await db[MEMBERS].insert_many(member_docs[k:k + 1000], ordered=False)
            copies = [c for c in map(listed_alerts, member_docs[k:k + 1000]) if c]  # as handlers.py copies them
            if copies:
                await db[MEMBER_ALERTS].insert_many(copies, ordered=False)
            await db[STUDY_ROLL].insert_many([study_roll(facts_from_doc(d, d["_id"])) for d in member_docs[k:k + 1000]],
                                             ordered=False)  # and keeps their study rolls
        print(f"{len(member_docs):,} member documents written in {time.perf_counter() - started:.1f} s")
    return district, communities[0], branches[0]


async def _afresh(db, org: str, period, as_of: date) -> dict:
    SECTIONS.clear()
    return await queries.report(db, org, period, as_of, asked=True)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def timed(label: str, coro_factory, runs: int) -> dict:
    samples = []
    result = None
    for _ in range(runs):
        t = time.perf_counter()
        result = await coro_factory()
        samples.append((time.perf_counter() - t) * 1000)
    print(f"{label:<36} p50 {statistics.median(samples):7.1f} ms   p99 {percentile(samples, 99):7.1f} ms   "
          f"max {max(samples):7.1f} ms   ({runs} runs)")
    return result


async def under_changes(db, district: str, as_of: date, seconds: float, change_every: float,
                        ask_every: float, refresh_every: float) -> None:
    """The district's year report asked every `ask_every` seconds for `seconds` while what its
    sections read changes every `change_every` seconds (a leadership checksum moved, as an
    election's commit moves it), with the background refresh computing at most every
    `refresh_every` seconds (0: none: the first report after a change computes). In one process,
    as in the service: the refresh's work delays a report asked meanwhile."""
    period, samples = parse_period("2026"), []
    SECTIONS.clear()

    async def changes():
        while True:
            await asyncio.sleep(change_every)
            await db[section_checksums.checksum_collection(LEADERSHIP)].update_one(
                {"_id": section_checksums.TALLY_ID}, {"$inc": {"h": 1}}, upsert=True)

    async def database():
        return db

    tasks = [asyncio.create_task(changes())]
    if refresh_every:
        tasks.append(asyncio.create_task(sections_refresh.keep_fresh(database, refresh_every, 3600)))
    stop = time.monotonic() + seconds
    try:
        while time.monotonic() < stop:
            t = time.perf_counter()
            await queries.report(db, district, period, as_of, asked=True)
            samples.append((time.perf_counter() - t) * 1000)
            await asyncio.sleep(ask_every)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    slow = sum(1 for x in samples if x > 50)
    label = f"refresh at most every {refresh_every:g} s" if refresh_every else "no refresh"
    print(f"district 2026 asked every {ask_every:g} s, a change every {change_every:g} s, {label:<28} "
          f"p50 {statistics.median(samples):7.1f} ms   p99 {percentile(samples, 99):7.1f} ms   "
          f"over 50 ms: {slow} of {len(samples)}")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--branches", type=int, default=2223,
                    help="the simulator's 100,000-member district has 2,223 (45 members a branch)")
    ap.add_argument("--runs", type=int, default=200, help="timed runs of each report")
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--with-members", action="store_true",
                    help="also store the members and time a branch's alerts and member list")
    ap.add_argument("--keep", action="store_true", help="keep the benchmark database")
    ap.add_argument("--changes-every", type=float, metavar="S",
                    help="also: the district's report asked every --ask-every s for --changes-for seconds while "
                         "what its sections read changes every S seconds, without and with the background refresh")
    ap.add_argument("--changes-for", type=float, default=240)
    ap.add_argument("--ask-every", type=float, default=3)
    ap.add_argument("--refresh-every", type=float, default=20, help="the refresh's interval with --changes-every")
    ap.add_argument("--reuse", metavar="NAME",
                    help="time the reports over a database a run with --keep built (same --branches; "
                         "kept): before and after a change, on the same data")
    args = ap.parse_args()
    client = AsyncMongoClient(os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/"), tz_aware=True)
    name = args.reuse or f"bench_reporting_{uuid.uuid4().hex[:8]}"
    db = client[name]
    try:
        await setup(db)
        if args.reuse:
            district, community, branch = "d-bench", "c-00", "b-0000"  # as `build` names them
        else:
            district, community, branch = await build(db, args.members, args.branches, args.seed, args.with_members)
        # The checksums the service's store keeps as it writes (section_checksums.py), counted once
        # over what `build` inserted directly, as a service starting on existing data does.
        await MongoStore(client, db, tallies=section_checksums.TALLIES).setup([])
        as_of = date.fromisoformat(EVALUATED_ON)
        print(f"database {name}: {args.branches} branches; reports as of {as_of}")
        for org, what in ((district, "district"), (community, "community"), (branch, "branch")):
            for period in ("2026-10", "2026-Q3", "2026"):
                if what != "branch":  # the sums over its branches computed afresh, as after a change
                    await timed(f"report {what} {period}, sections computed", lambda o=org, p=period: _afresh(
                        db, o, parse_period(p), as_of), max(5, args.runs // 10))
                r = await timed(f"report {what} {period}", lambda o=org, p=period: queries.report(
                    db, o, parse_period(p), as_of, asked=True), args.runs)
                if what == "district" and period == "2026":
                    print(f"  → registered {r['members']['registered']:,}, active {r['participation']['active']:,}, "
                          f"dues paid {r['dues']['member_months_paid']:,}/{r['dues']['member_months_due']:,}, "
                          f"compliance {r['organisational_life']['compliance']}, score {r['score']}")
        if args.changes_every:
            for refresh_every in (0, args.refresh_every):
                await under_changes(db, district, as_of, args.changes_for, args.changes_every, args.ask_every,
                                    refresh_every)
        runs = max(3, args.runs // 50)
        await timed("series district, by community", lambda: queries.children_series(db, district, 2026, as_of), runs)
        await timed("series community, by branch", lambda: queries.monthly_series(db, community, 2026, as_of), runs)
        if args.with_members:
            runs = max(5, args.runs // 20)
            alerts = await timed("alerts branch", lambda: queries.alerts(db, branch, as_of), runs)
            listed = await timed("members branch", lambda: queries.members_of(db, branch, as_of.isoformat()), runs)
            print(f"  → {len(alerts)} alerts, {len(listed)} members in {branch}")
            # What a district official's dashboard and lists ask of the whole subtree: the alerts stored
            # for the day, the hours by team and remote study read what is kept; the others read every
            # member once (a stream, never held: services/reporting/README.md)
            for org, what in ((community, "community"), (district, "district")):
                # as of the day the members' alerts were evaluated (stored), and of the day before
                # (worked out from every member's facts: a day in the past, or today before the daily pass)
                found = await timed(f"alerts {what}, as stored", lambda o=org: queries.alerts(db, o, as_of), 2)
                print(f"  → {len(found):,} alerts")
                found = await timed(f"alerts {what}, the day before, worked out",
                                    lambda o=org: queries.alerts(db, o, as_of - timedelta(days=1)), 2)
                print(f"  → {len(found):,} alerts")
                await timed(f"members {what}, first page of 50",
                            lambda o=org: queries.members_page(db, o, as_of.isoformat(), 0, 50), 2)
                await timed(f"volunteer hours {what}", lambda o=org: queries.volunteer_hours(
                    db, o, parse_period("2026"), as_of), 2)
                await timed(f"candidates {what}", lambda o=org: queries.candidates(db, o, 2026, as_of), 2)
                doc, year = await queries.org(db, org), parse_period("2026")  # the dashboard asks both at every load
                answers = []
                for rolls in (True, False):  # read from the members' study rolls, or worked out as before them
                    await use_rolls(db, rolls)
                    how = "" if rolls else ", worked out from the facts"
                    answers.append((await timed(f"remote study {what}{how}", lambda d=doc: study_queries.study(
                        db, d, year, as_of.isoformat()), 3), await timed(
                        f"home delivery {what}{how}", lambda d=doc: study_queries.home_delivery(
                            db, d, year, as_of.isoformat()), 3)))
                await use_rolls(db, True)
                assert answers[0] == answers[1], "the same figures and rows both ways"
    finally:
        if not (args.keep or args.reuse):
            await client.drop_database(name)
        await client.close()


if __name__ == "__main__":
    asyncio.run(main())
