"""Read side of remote study (issue 13, item 6): coverage and use per branch, attendance by mode,
and the members with neither account (送学上门), read from the subtree's members (`branches` index)
and their study documents (one `$in` query)."""
from services.reporting.adapters import org_tree
from services.reporting.adapters.documents import STINTS
from services.reporting.domain import standing
from services.reporting.domain import study as dom
from services.reporting.domain.report import reading_day
from services.reporting.study import STUDY
from shared.periods import Period


# The facts each read weighs (a member's year of notices and payments is most of a document):
# where the member was, attendance by mode; for the home-delivery list, their standing and names.
STUDY_FACTS = (*STINTS, "attendance")
HOME_DELIVERY_FACTS = (*STUDY_FACTS, "name", "specialist_id", "away", "returns", "exempt")


async def _members(db, branches: list[dict], day: str, only: tuple[str, ...] | None):
    """(facts, branch, study document) of each of the subtree's members registered on `day`, a part
    at a time (a district's are not held at once): one `$in` query for each part's documents."""
    from services.reporting.queries import in_parts, subtree_members  # queries.py imports the modules beside it

    names = {b["_id"]: b for b in branches}
    async for part in in_parts(subtree_members(db, branches, only=only) if branches else _none()):
        found = [(f, s.branch_id) for f in part if (s := f.stint_on(day)) is not None and s.branch_id in names]
        docs = {d["_id"]: d async for d in db[STUDY].find({"_id": {"$in": [f.member_id for f, _ in found]}})}
        for f, b in found:
            yield f, b, docs.get(f.member_id)


async def _none():
    return
    yield


async def study(db, org: dict, period: Period, as_of: str) -> dict:
    day = reading_day(period, as_of)
    branches = await org_tree.branches_under(db, org)
    per: dict[str, dict] = {b["_id"]: dict.fromkeys(dom.COUNTS, 0) for b in branches}
    async for f, b, doc in _members(db, branches, day, STUDY_FACTS):
        per[b] = dom.add(per[b], dom.member_figures(f, doc, period, day))
    total = dict.fromkeys(dom.COUNTS, 0)
    for c in per.values():
        total = dom.add(total, c)
    return {"org_id": org["_id"], "name": org["name"], "kind": org["kind"], "period": period.text, "as_of": day,
            "totals": dom.with_rates(total),
            "branches": [{"branch_id": b["_id"], "name": b["name"], **dom.with_rates(per[b["_id"]])} for b in branches]}


async def home_delivery(db, org: dict, period: Period, as_of: str) -> dict:
    """The members registered on the reading day with no account on either platform: whom 送学上门
    must reach; with whether a home delivery reached them in the period and their specialist."""
    day = reading_day(period, as_of)
    branches = await org_tree.branches_under(db, org)
    names = {b["_id"]: b["name"] for b in branches}
    rows = []
    async for f, b, doc in _members(db, branches, day, HOME_DELIVERY_FACTS):
        figures = dom.member_figures(f, doc, period, day)
        if figures["with_neither"]:
            rows.append({"member_id": f.member_id, "name": f.name, "branch_id": b, "branch_name": names[b],
                         "status": standing.status(f, day), "specialist_id": f.specialist_id,
                         "home_deliveries": figures["attendances_home_delivery"],
                         "reached": bool(figures["attendances_home_delivery"])})
    rows.sort(key=lambda r: (r["branch_name"], r["reached"], r["member_id"]))
    return {"org_id": org["_id"], "period": period.text, "as_of": day, "count": len(rows),
            "reached": sum(r["reached"] for r in rows), "members": rows}
