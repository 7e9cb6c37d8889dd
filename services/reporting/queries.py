"""Read side of the service layer: reports, alerts, candidates and the dashboard's series.

Reports and volunteer hours by team read only the precomputed figures (adapters/figures.py):
three documents by `_id` per organisation. Candidates and member lists, which list members, read
the facts of the subtree's members through the `branches` index, and derive everything as of the
day asked; the alert list reads the members' alerts stored for that day, and works out the others
(`member_alerts`).
"""
import asyncio
import time
from datetime import date

from services.reporting import activists_queries, funds_queries, grades_queries, leadership_queries, service_queries
from services.reporting.adapters import figures, org_tree, section_checksums
from services.reporting.adapters.branch_state import branch_state
from services.reporting.adapters.documents import AWARDS, MEMBER_ALERTS, MEMBERS, ORGS, STINTS, alerts_key, facts_from_doc
from services.reporting.adapters.figures import DbReader, Key, Reader
from services.reporting.adapters.leadership_store import LEADERSHIP, TRAINEES
from services.reporting.domain import alert_list
from services.reporting.domain import alerts as al
from services.reporting.domain import days as d
from services.reporting.domain import standing
from services.reporting.domain.facts import attended
from services.reporting.domain.candidates import merge_rankings, rank_branches, rank_members
from services.reporting.domain.report import build, reading_day
from services.reporting.domain.volunteer import as_hours, by_team
from services.reporting.grades import GRADES
from services.reporting.section_cache import SECTIONS
from services.reporting.service_requests import REQUESTS
from services.reporting.settings import district_grading, district_rules, records_start
from shared.contracts.codes import ORG_LIFE_KINDS
from shared.periods import Period, parse_period


class UnknownOrg(LookupError):
    pass


async def org(db, org_id: str) -> dict:
    doc = await org_tree.get(db, org_id)
    if doc is None:
        raise UnknownOrg(org_id)
    return doc


GAP_KINDS = frozenset({"no_secretary", "branch_too_small", "missed_meetings"})


async def _gaps(reader: Reader, o: dict, day: str) -> frozenset[str]:
    """A branch's gaps on the reading day (its branch alerts), which cap its recommendation."""
    if o["kind"] != "branch":
        return frozenset()
    state = await branch_state(reader, o, day)
    return frozenset(x.kind for x in al.branch_alerts(state, day, district_rules())) & GAP_KINDS


def _section_keys(branches: list[dict]) -> list[Key]:
    """What the report's sections over these branches read (leadership, training, grades)."""
    return [*leadership_queries.keys(branches), *grades_queries.keys(branches)]


async def _report(reader: Reader, o: dict, branches: list[dict] | None, period: Period, as_of: date,
                  sections: dict | None = None) -> dict:
    """`branches`: those of the organisation's subtree (itself, for a branch), read once for the
    sections that sum over them; or `sections`, those sums already made (section_cache.py)."""
    day = reading_day(period, as_of.isoformat())
    # The sections' documents of every branch, read at once with what a branch's gaps need.
    gaps, _ = await asyncio.gather(_gaps(reader, o, day), reader.docs(_section_keys(branches or [])))
    sums = await figures.org_sums(reader, o["_id"], period, day)
    required = await figures.required(reader, o["_id"], period, district_rules())
    stars = (o.get("stars") or {}).get(period.text[:4]) if o["kind"] == "branch" else None
    out = {"org_id": o["_id"], "name": o["name"], "kind": o["kind"], "period": period.text, "as_of": day,
           **build(sums, required, period, day, stars=stars, gaps=gaps, grading=district_grading())}
    if o["kind"] == "branch":
        out["gaps"] = sorted(gaps)
    out.update(sections if sections is not None else await _sections(reader, o, branches, period, day))
    return out


async def _sections(reader: Reader, o: dict, branches: list[dict], period: Period, day: str) -> dict:
    return {**await leadership_queries.report_sections(reader, o, branches, period, day),  # committee (issue 13)
            **await grades_queries.report_section(reader, o, branches, period)}  # 星级类别 and 晋位升级 (issue 13)


# What each kept part of a community's or district's sections reads (section_cache.py): apart, so
# that a service request, far more frequent, does not make the leadership's sums be computed again.
LEADERSHIP_READS = (ORGS, LEADERSHIP, TRAINEES, GRADES)
SERVICES_READS = (ORGS, REQUESTS)


async def _subtree_sections(db, o: dict, period: Period, day: str, checksums: dict[str, int] | None = None, *,
                            asked: bool) -> dict:
    """The sections of a community's or a district's report, summed over the branches below it;
    `checksums`, those of section_checksums.current, read before anything else (else read here).
    `asked`: for a reader (remembered, to be kept fresh: `refresh_sections`), not by that refresh
    nor a publication."""
    checksums = checksums if checksums is not None else await section_checksums.current(db)
    if asked:
        SECTIONS.note_asked(db.name, o["_id"], period.text, day)
    below: asyncio.Future | None = None

    def branches() -> asyncio.Future:  # read once, and only if a part is computed
        nonlocal below
        below = below or asyncio.ensure_future(org_tree.branches_below(db, o["_id"]))
        return below

    async def leadership() -> tuple[dict, bool]:
        reader, bs = DbReader(db), await branches()
        await reader.docs(_section_keys(bs))
        return await _sections(reader, o, bs, period, day), True

    async def services() -> tuple[dict, bool]:
        return await service_queries.report_section_of_documents(db, await branches(), period, day)

    kept, fresh = await asyncio.gather(
        SECTIONS.sections(db.name, LEADERSHIP_READS, checksums, o["_id"], period.text, day, leadership, not asked),
        SECTIONS.sections(db.name, SERVICES_READS, checksums, o["_id"], period.text, day, services, not asked))
    return kept | fresh


async def refresh_sections(db, asked_within_s: float) -> int:
    """Compute again the sections reports asked for in the last `asked_within_s` seconds that are
    no longer kept under the checksums now (what they read changed); returns how many. The next
    report then finds them kept (section_cache.py)."""
    checksums = await section_checksums.current(db)
    state = tuple(sorted(checksums.items()))
    since = time.monotonic() - asked_within_s
    done = 0
    for key, at in list(SECTIONS.asked.items()):
        db_name, org_id, period_text, day = key
        if db_name != db.name or at < since or SECTIONS.refreshed_under.get(key) == state:
            continue  # another version's, not asked lately, or refreshed since the last change
        SECTIONS.refreshed_under[key] = state
        if all(SECTIONS.holds(db.name, reads, checksums, org_id, period_text, day)
               for reads in (LEADERSHIP_READS, SERVICES_READS)):
            continue
        o = await org_tree.get(db, org_id)
        if o is None or o["kind"] == "branch":
            continue
        await _subtree_sections(db, o, parse_period(period_text), day, checksums, asked=False)
        done += 1
    return done


async def report(db, org_id: str, period: Period, as_of: date, *, asked: bool) -> dict:
    """The organisation and its figures (what its branches must hold included), read at once:
    two documents by `_id` and the organisation's totals, whatever the size of its subtree. A
    branch's sections are read with it; those of a community or a district, which sum over every
    branch below, are kept while the documents they read are unchanged (section_cache.py).
    `asked`: for someone reading it (a route), so its sections are kept fresh ahead of their next
    one (`refresh_sections`); not for a closed month's publication, which nobody waits on."""
    reader = DbReader(db)
    day = reading_day(period, as_of.isoformat())
    o, _ = await asyncio.gather(org_tree.get(db, org_id), figures.prefetch_sums(reader, [org_id], period, day))
    if o is None:
        raise UnknownOrg(org_id)
    if o["kind"] != "branch":
        return await _report(reader, o, None, period, as_of, await _subtree_sections(db, o, period, day, asked=asked))
    out, services = await asyncio.gather(_report(reader, o, [o], period, as_of),
                                         service_queries.report_section(db, [o], period, day))
    out.update(services)
    # 化并转 (issue 13)
    out["reorganization"] = {"merged_into": o.get("merged_into"), "merged_on": o.get("merged_on"),
                             "dissolved_on": o.get("dissolved_on"), "moves": o.get("moves", [])}
    return out


async def _branch_reports(reader: Reader, branches: list[dict], period: Period, as_of: date) -> list[dict]:
    await asyncio.gather(figures.prefetch_sums(reader, [b["_id"] for b in branches], period,
                                               reading_day(period, as_of.isoformat())),
                         reader.docs(_section_keys(branches)))
    return [await _report(reader, b, [b], period, as_of) for b in branches]


async def branch_reports(db, org_id: str, period: Period, as_of: date) -> list[dict]:
    o = await org(db, org_id)
    return await _branch_reports(DbReader(db), await org_tree.branches_under(db, o), period, as_of)


async def subtree_members(db, branches: list[dict], only: tuple[str, ...] | None = None):
    """The facts of every member who ever belonged to one of these branches (`branches` index);
    `only` these facts, when that is all the caller needs (a year of attendance and notices a
    member is most of what a document holds)."""
    async for f in _members_where(db, await subtree_scope(db, branches), only):
        yield f


async def subtree_scope(db, branches: list[dict]) -> dict:
    """The query for the members who ever belonged to one of these branches (on `members`, and on
    the collections beside it that keep a member's `branches`: `member_alerts`, `study_roll`)."""
    ids = [b["_id"] for b in branches]
    if len(ids) > 1 and len(ids) == await db[ORGS].count_documents({"kind": "branch"}):
        # The whole district: every member is wanted, and reading the collection beats an index
        # walked over all its keys (an `$in` of 2,223 branches: 2.5–7 s against 1.2–1.5 s for 20,000
        # members here). A member in no branch is read too; every caller keeps its branches' alone.
        return {}
    return {"branches": ids[0]} if len(ids) == 1 else {"branches": {"$in": ids}}


async def _members_where(db, query: dict, only: tuple[str, ...] | None):
    projection = {f"facts.{k}": 1 for k in only} if only else {"facts": 1}
    async for doc in db[MEMBERS].find(query, projection).batch_size(500):  # a batch decoded at once is held at once
        yield facts_from_doc(doc, doc["_id"], copy=False)


async def member_alerts(db, branches: list[dict], day: str):
    """(alert, the member's name) for every open alert of a member who ever belonged to these
    branches, as of `day` (the caller keeps those of its branches on that day).

    Reporting stores each member's alerts as of the day it last evaluated them (`open_alerts`,
    written with the facts they come from at every change and by the daily pass: handlers.py,
    daily.py), so for today they are already there, copied for a member with an alert into a small
    document of `member_alerts`: those are read as stored. The members evaluated for another day (a
    day in the past asked, today before the daily pass) are worked out from their facts. Working out
    every member's took 52–67 s for a district of 100,000 here, at every load of its dashboard
    (docs/benchmarks.md). Those worked out are read first and their copies passed over: a member
    the daily pass evaluates between the two reads is then listed once, not missed."""
    key, scope = alerts_key(day, records_start()), await subtree_scope(db, branches)
    worked_out: set[str] = set()
    async for f in _members_where(db, scope | {"alerts_of": {"$ne": key}}, (*al.MEMBER_ALERT_FACTS, "name")):
        worked_out.add(f.member_id)
        for x in al.member_alerts(f, day):
            yield x.to_dict(), f.name
    async for doc in db[MEMBER_ALERTS].find(scope | {"alerts_of": key}, {"open_alerts": 1, "name": 1}).batch_size(1000):
        if doc["_id"] not in worked_out:
            for x in doc["open_alerts"]:
                yield x, doc.get("name")


async def in_parts(facts, size: int = 1_000):
    """Members' facts a part at a time: a district's 100,000, each with a year of attendance and
    notices, are not held at once (a list of them took reporting past a gigabyte)."""
    part = []
    async for f in facts:
        part.append(f)
        if len(part) == size:
            yield part
            part = []
    if part:
        yield part


async def alerts(db, org_id: str, as_of: date, kind: str | None = None, branch_id: str | None = None) -> list[dict]:
    """The subtree's open alerts as of a day, the worst first (domain/alert_list.py); only those of
    one kind, or of one branch of the subtree, when asked."""
    o = await org(db, org_id)
    day = as_of.isoformat()
    branches = await org_tree.branches_under(db, o)
    if branch_id is not None:
        branches = [b for b in branches if b["_id"] == branch_id]
        if not branches:
            raise UnknownOrg(branch_id)
    wanted = {b["_id"] for b in branches}
    names = {b["_id"]: b["name"] for b in branches}
    reader = DbReader(db)
    await figures.prefetch_branch_states(reader, list(wanted), day)
    out: list[dict] = []
    for b in branches:
        if b.get("merged_on") and b["merged_on"] <= day:
            continue  # merged or dissolved (化并转): no branch alerts from that day
        state = await branch_state(reader, b, day)
        out += [x.to_dict() | {"subject_name": b["name"]} for x in al.branch_alerts(state, day, district_rules())]
    out += [x | {"subject_name": name} async for x, name in member_alerts(db, branches, day) if x["org_id"] in wanted]
    out += await leadership_queries.alerts(db, branches, day)  # committee and secretaries (issue 13)
    out += await funds_queries.alerts(db, branches, day)  # a branch's funds overdrawn (issue 13)
    out += await activists_queries.alerts(db, branches, day)  # a probation past its year (issue 13)
    out += await service_queries.alerts(db, branches, day)  # service requests overdue (issue 13)
    for x in out:
        x["org_name"] = names.get(x["org_id"])
        x["since_label"] = alert_list.since_label(x["kind"], x["since"])
    return alert_list.ordered(alert_list.matching(out, kind))


async def members_of(db, org_id: str, day: str, listed=None) -> list[dict]:
    """The subtree's members registered on a day, with what a person acting on them needs, by id.
    `listed`: given every one of them as `{member_id, branch_id}`, the branches whose members need
    their rows (the xlsx lists at most 5,000 of a district's 100,000); the others stay those two
    fields, enough to count them."""
    branches = await org_tree.branches_under(db, await org(db, org_id))
    names = {b["_id"]: b["name"] for b in branches}
    placed = [{"member_id": i, "branch_id": b} for i, b in await _registered(db, branches, day)]
    wanted = listed(placed) if listed is not None else set(names)
    rows = await _rows(db, [p["member_id"] for p in placed if p["branch_id"] in wanted], day, names)
    return [rows.get(p["member_id"], p) for p in placed if p["member_id"] in rows or p["branch_id"] not in wanted]


async def members_page(db, org_id: str, day: str, skip: int, limit: int) -> tuple[list[dict], int]:
    """A page of `members_of`, and how many there are, without holding the subtree: the ids of
    the members registered on the day first, then the rows of the page's alone (a district's list
    made every one of 100,000 rows for 50)."""
    branches = await org_tree.branches_under(db, await org(db, org_id))
    names = {b["_id"]: b["name"] for b in branches}
    placed = await _registered(db, branches, day)
    wanted = [i for i, _ in placed[skip:skip + limit]]
    rows = await _rows(db, wanted, day, names)
    return [rows[i] for i in wanted if i in rows], len(placed)


async def _registered(db, branches: list[dict], day: str) -> list[tuple[str, str]]:
    """(member id, branch of the day) of the members registered on the day in these branches, by
    id: from the facts that place a member alone, not their year of attendance and notices."""
    ids = {b["_id"] for b in branches}
    out = []
    async for f in subtree_members(db, branches, only=STINTS):
        stint = f.stint_on(day)
        if stint is not None and stint.branch_id in ids:
            out.append((f.member_id, stint.branch_id))
    return sorted(out)


async def _rows(db, member_ids: list[str], day: str, branch_names: dict[str, str]) -> dict[str, dict]:
    """The rows of these members, their facts read 500 at a time; one no longer in these branches on
    the day (a transfer handled between the two reads) is left out."""
    out = {}
    for n in range(0, len(member_ids), 500):
        async for doc in db[MEMBERS].find({"_id": {"$in": member_ids[n:n + 500]}}, {"facts": 1}):
            f = facts_from_doc(doc, doc["_id"], copy=False)
            stint = f.stint_on(day)
            if stint is not None and stint.branch_id in branch_names:
                out[doc["_id"]] = _member_row(f, stint.branch_id, day, branch_names)
    return out


def _member_row(f, branch_id: str, day: str, branch_names: dict[str, str]) -> dict:
    return {"member_id": f.member_id, "name": f.name, "branch_id": branch_id, "branch_name": branch_names[branch_id],
            "status": standing.status(f, day), "registered_on": f.registered_on,
            "last_present": standing.last_present(f, day), "last_visit": standing.last_visit(f, day),
            "dues": standing.dues_standing(f, day, records_start()), "specialist_id": f.specialist_id}


async def member_place(db, member_id: str) -> tuple[list[str], str | None]:
    """The path of the member's latest branch and their specialist: what decides who may read them."""
    doc = await db[MEMBERS].find_one({"_id": member_id}, {"facts": 1})
    if doc is None:
        return [], None
    f = facts_from_doc(doc, member_id, copy=False)
    stints = f.stints()
    path = (await org_tree.path(db, stints[-1].branch_id) or [stints[-1].branch_id]) if stints else []
    return path, f.specialist_id


async def member(db, member_id: str, as_of: date) -> dict | None:
    """What reporting knows of one member as of a day (the branch view's ledger): every branch by
    name, the status of the day, dues month by month of the day's year, attendance with its kind,
    visits, hours, notices and the alerts."""
    doc = await db[MEMBERS].find_one({"_id": member_id})
    if doc is None:
        return None
    f = facts_from_doc(doc, member_id, copy=False)
    day = as_of.isoformat()
    stints = f.stints()
    names = {o["_id"]: o["name"] async for o in db[ORGS].find({"_id": {"$in": [s.branch_id for s in stints]}},
                                                              {"name": 1})}
    stint = f.stint_on(day)
    paid = {mo: on for mo, on in f.month_paid_on(records_start()).items() if on <= day}
    year = parse_period(day[:4]).months
    return {"member_id": member_id, "name": f.name, "registered_on": f.registered_on, "died_on": f.died_on,
            "branch_id": stint.branch_id if stint else None,
            "branch_name": names.get(stint.branch_id) if stint else None,
            "status": standing.status(f, day),
            "stints": [vars(s) | {"branch_name": names.get(s.branch_id)} for s in stints],
            "away": f.away, "exempt": f.exempt,
            "dues": standing.dues_standing(f, day, records_start()) | {
                "year": [{"month": mo, "paid_on": paid.get(mo)} for mo in year if mo <= d.month_of(day)]},
            "attendance": sorted(({"held_on": a["held_on"], "kind": a["kind"], "status": attended(a, "status")}
                                  for a in f.attendance.values() if not a.get("cancelled") and a["held_on"] <= day),
                                 key=lambda a: a["held_on"], reverse=True),
            "present_days": [x for x in f.present_days() if x <= day],
            "visits": sorted((v for v in f.visits.values() if v <= day), reverse=True),
            "hours": str(sum(h["hundredths"] for h in f.hours.values() if h["on"] <= day) / 100),
            "notices": [{"notice_id": k, **v} for k, v in sorted(f.notices.items())],
            "alerts": [x.to_dict() | {"since_label": alert_list.since_label(x.kind, x.since)}
                       for x in al.member_alerts(f, day)], "as_of": day,
            "service_requests": await service_queries.of_member(db, member_id, day)}  # issue 13


async def volunteer_hours(db, org_id: str, period: Period, as_of: date) -> dict:
    """The subtree's volunteer hours of a period by team (the report's `volunteer_hours`, split),
    from the organisation's figures, as the report reads them."""
    o = await org(db, org_id)
    day = reading_day(period, as_of.isoformat())
    sums = await figures.org_sums(DbReader(db), o["_id"], period, day)
    return {"org_id": org_id, "period": period.text, "as_of": day, "by_team": as_hours(by_team(sums.period))}


async def tree(db) -> list[dict]:
    return [{"org_id": o["_id"], "name": o["name"], "kind": o["kind"], "parent_id": o.get("parent_id")}
            async for o in db[ORGS].find({}, {"name": 1, "kind": 1, "parent_id": 1}).sort("_id", 1)]


async def _month_figures(reader: Reader, o: dict, period: Period, as_of: date) -> dict:
    """The figures of an organisation's month as the series shows them (members, participation,
    dues): its report without what a month's row never shows (the gaps, the leadership's sections),
    which over a district's thousands of branches and twelve months were most of the series' time."""
    day = reading_day(period, as_of.isoformat())
    sums = await figures.org_sums(reader, o["_id"], period, day)
    required = await figures.required(reader, o["_id"], period, district_rules())
    return build(sums, required, period, day, grading=district_grading())


async def monthly_series(db, org_id: str, year: int, as_of: date, period: Period | None = None) -> dict:
    """Per branch and month of the year: participation, dues, away members; per branch, the report
    and the compliance by kind of `period` (the one the dashboard's cards show; default the year)."""
    period = period or parse_period(str(year))
    o = await org(db, org_id)
    branches = await org_tree.branches_under(db, o)
    reader = DbReader(db)
    await asyncio.gather(reader.preload_year([b["_id"] for b in branches], year, period), reader.docs(_section_keys(branches)))
    rows = [await _series_row(reader, b, year, as_of, await _report(reader, b, [b], period, as_of)) | {"branch_id": b["_id"]}
            for b in branches]
    return {"org_id": org_id, "year": year, "period": period.text, "branches": rows}


async def children_series(db, org_id: str, year: int, as_of: date, period: Period | None = None) -> dict:
    """The same per organisation directly below (a district's subdistricts, a subdistrict's
    communities), each from its own figures and report: for a subtree of thousands of branches,
    whose rows per branch take tens of seconds and cannot be read on a page anyway."""
    period = period or parse_period(str(year))
    await org(db, org_id)
    checksums = await section_checksums.current(db)  # before any document the sections read
    children = await org_tree.children(db, org_id)
    reader = DbReader(db)
    await reader.preload_year([c["_id"] for c in children], year, period)
    day = reading_day(period, as_of.isoformat())
    rows = []
    for c in children:
        sections = await _subtree_sections(db, c, period, day, checksums, asked=True) if c["kind"] != "branch" else None
        period_report = await _report(reader, c, None if sections is not None else [c], period, as_of, sections)
        rows.append(await _series_row(reader, c, year, as_of, period_report))
    return {"org_id": org_id, "year": year, "period": period.text, "children": rows}


async def _series_row(reader: Reader, o: dict, year: int, as_of: date, period_report: dict) -> dict:
    """An organisation's row of the series: its months of the year up to the reading day, and the
    report of the series' period with its compliance by kind."""
    per_month = []
    for mo in parse_period(str(year)).months:
        if d.first_day(mo) > as_of.isoformat():
            break
        r = await _month_figures(reader, o, parse_period(mo), as_of)
        per_month.append({"month": mo, "participation_rate": r["participation"]["rate"],
                          "dues_rate": r["dues"]["rate"], "amount_paid": r["dues"]["amount_paid"],
                          "away": r["members"]["away"], "registered": r["members"]["registered"]})
    life = period_report["organisational_life"]
    return {"org_id": o["_id"], "kind": o["kind"], "name": o["name"], "months": per_month,
            "compliance": {k: ({"held": life[k]["held"], "required": life[k]["required"]}) for k in ORG_LIFE_KINDS},
            "report": period_report}


async def candidates(db, org_id: str, year: int, as_of: date) -> dict:
    o = await org(db, org_id)
    period = parse_period(str(year))
    branches = await org_tree.branches_under(db, o)
    reports = await _branch_reports(DbReader(db), branches, period, as_of)
    day = reading_day(period, as_of.isoformat())
    names = {b["_id"]: b["name"] for b in branches}
    secretaries = {b["secretary_id"]: b["_id"] for b in branches if b.get("secretary_id")}
    awards = await db[AWARDS].find({"year": year}).to_list(None)
    by_branch = {r["org_id"]: r for r in reports}
    ranked = merge_rankings([rank_members(part, year, day, names, secretaries, by_branch) async for part in in_parts(
        subtree_members(db, branches, only=(*STINTS, "name", "attendance", "evaluations", "hours")))])
    # 最美入党积极分子: the activists on the way into the Party, not the best-attending members (issue 13)
    ranked["best_activist"] = await activists_queries.best_activists(db, branches, year, day)
    return {"org_id": org_id, "year": year, "five_good_branch": rank_branches(reports), **ranked,
            "awards": [{k: v for k, v in a.items() if k != "_id"} | {"award_id": a["_id"]} for a in awards]}
