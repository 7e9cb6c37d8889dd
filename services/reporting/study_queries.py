"""Read side of remote study (issue 13, item 6): coverage and use per branch, attendance by mode,
and the members with neither account (送学上门), read from the subtree's study rolls (`branches`
index; adapters/documents.py, `study_roll`) and their study documents (one `$in` query a part)."""
from services.reporting.adapters import org_tree
from services.reporting.adapters.documents import MEMBERS, STINTS, STUDY_ROLL, STUDY_ROLL_VERSION, facts_from_doc
from services.reporting.domain import standing
from services.reporting.domain import study as dom
from services.reporting.domain.report import reading_day
from services.reporting.in_flight import InFlight
from services.reporting.study import STUDY
from shared.messaging.unit_of_work import clone
from shared.periods import Period

# What a member stored before their roll was kept (or with a roll of another version) is worked out
# from: where they were, attendance by mode, and for the home-delivery list their standing and names.
STUDY_FACTS = (*STINTS, "attendance", "name", "specialist_id", "away", "returns", "exempt")


async def _members(db, branches: list[dict], day: str):
    """(facts, branch, study document, present attendances by day and mode) of each of the
    subtree's members registered on `day`, a part at a time (a district's are not held at once),
    with one `$in` query for each part's study documents. The members stored with a roll of this
    version are read from `study_roll`; the others (stored before it, or with another version) are
    worked out from their facts in `members`, first: a member whose roll is written between the two
    reads is then taken once, not missed."""
    from services.reporting.queries import in_parts, subtree_scope  # queries.py imports the modules beside it

    if not branches:
        return
    names = {b["_id"]: b for b in branches}
    scope = await subtree_scope(db, branches)
    worked_out: set[str] = set()

    async def from_facts():
        query = scope | {"study_roll": {"$ne": STUDY_ROLL_VERSION}}
        async for doc in db[MEMBERS].find(query, {f"facts.{k}": 1 for k in STUDY_FACTS}).batch_size(500):
            f = facts_from_doc(doc, doc["_id"], copy=False)
            worked_out.add(f.member_id)
            yield f, dom.present_by_day(f)

    async def from_rolls():
        async for doc in db[STUDY_ROLL].find(scope).batch_size(1000):
            if doc["_id"] not in worked_out:
                yield facts_from_doc(doc, doc["_id"], copy=False), doc["present"]

    for source in (from_facts(), from_rolls()):
        async for part in in_parts(source):
            found = [(f, s.branch_id, present) for f, present in part
                     if (s := f.stint_on(day)) is not None and s.branch_id in names]
            docs = {d["_id"]: d async for d in db[STUDY].find({"_id": {"$in": [f.member_id for f, _, _ in found]}})}
            for f, b, present in found:
                yield f, b, docs.get(f.member_id), present


async def study(db, org: dict, period: Period, as_of: str) -> dict:
    """Coverage, use and attendance by mode, per branch of the subtree and in all."""
    return clone((await _both(db, org, period, reading_day(period, as_of)))[0])  # the caller's own copy


async def home_delivery(db, org: dict, period: Period, as_of: str) -> dict:
    """The members registered on the reading day with no account on either platform: whom 送学上门
    must reach; with whether a home delivery reached them in the period and their specialist."""
    return clone((await _both(db, org, period, reading_day(period, as_of)))[1])


# The passes under way, by database, organisation, period and day: the dashboard asks for remote
# study and its home-delivery list at once, and both come from one pass over the subtree's members
# (at 100,000 members, seconds each). A request for what a pass under way computes waits for it
# rather than reading every member again; nothing is kept once the pass is over.
_PASSES = InFlight()


async def _both(db, org: dict, period: Period, day: str) -> tuple[dict, dict]:
    return await _PASSES.run((db.name, org["_id"], period.text, day), lambda: _pass(db, org, period, day))


async def _pass(db, org: dict, period: Period, day: str) -> tuple[dict, dict]:
    """(remote study, its home-delivery list) from one pass over the subtree's members."""
    branches = await org_tree.branches_under(db, org)
    names = {b["_id"]: b["name"] for b in branches}
    per: dict[str, dict] = {b["_id"]: dict.fromkeys(dom.COUNTS, 0) for b in branches}
    rows = []
    async for f, b, doc, present in _members(db, branches, day):
        figures = dom.member_figures(f, doc, period, day, present)
        per[b] = dom.add(per[b], figures)
        if figures["with_neither"]:
            rows.append({"member_id": f.member_id, "name": f.name, "branch_id": b, "branch_name": names[b],
                         "status": standing.status(f, day), "specialist_id": f.specialist_id,
                         "home_deliveries": figures["attendances_home_delivery"],
                         "reached": bool(figures["attendances_home_delivery"])})
    total = dict.fromkeys(dom.COUNTS, 0)
    for c in per.values():
        total = dom.add(total, c)
    rows.sort(key=lambda r: (r["branch_name"], r["reached"], r["member_id"]))
    return ({"org_id": org["_id"], "name": org["name"], "kind": org["kind"], "period": period.text, "as_of": day,
             "totals": dom.with_rates(total),
             "branches": [{"branch_id": b["_id"], "name": b["name"], **dom.with_rates(per[b["_id"]])}
                          for b in branches]},
            {"org_id": org["_id"], "period": period.text, "as_of": day, "count": len(rows),
             "reached": sum(r["reached"] for r in rows), "members": rows})
