"""Read side of a branch's funds (issue 13, item 3): the ledger of a period for an organisation's
branches, what each activity cost, and the `funds_overdrawn` alerts as of a day."""
from services.reporting.adapters import org_tree
from services.reporting.adapters.documents import ACTIVITIES
from services.reporting.domain import funds as dom
from services.reporting.domain.report import reading_day
from services.reporting.funds import FUNDS, entries_of
from services.reporting.settings import records_start
from shared.periods import Period


def _yuan(f: dict) -> dict:
    return {k: dom.yuan(f[k]) for k in dom.COUNTS}


async def _docs(db, branches: list[dict]) -> dict[str, dict]:
    ids = [b["_id"] for b in branches]
    return {d["_id"]: d async for d in db[FUNDS].find({"_id": {"$in": ids}})}


async def funds(db, org: dict, period: Period, as_of: str) -> dict:
    """Per branch: received (by source), spent (on activities, otherwise), the opening balance and
    the balance on the reading day; the sums; and each activity with its cost. A branch's own view
    lists its entries of the period."""
    day = reading_day(period, as_of)
    branches = await org_tree.branches_under(db, org)
    docs = await _docs(db, branches)
    rows, total = [], dom.add({}, dict.fromkeys(dom.COUNTS, 0))
    per_activity: dict[str, dict[str, int]] = {}
    for b in branches:
        f = dom.figures(entries_of(docs.get(b["_id"])), period, day)
        total = dom.add(total, f)
        for a, fen in f["activities"].items():
            per_activity.setdefault(a, {})[b["_id"]] = fen
        rows.append({"branch_id": b["_id"], "name": b["name"], **_yuan(f),
                     "overdrawn": f["balance"] < 0})
    known = {a["_id"]: a async for a in db[ACTIVITIES].find({"_id": {"$in": sorted(per_activity)}},
                                                          {"title": 1, "kind": 1, "held_on": 1})}
    names = {b["_id"]: b["name"] for b in branches}
    activities = [{"activity_id": a, "title": known.get(a, {}).get("title"), "kind": known.get(a, {}).get("kind"),
                   "held_on": known.get(a, {}).get("held_on"), "spent": dom.yuan(sum(by.values())),
                   "branches": [{"branch_id": k, "name": names[k], "spent": dom.yuan(v)} for k, v in sorted(by.items())]}
                  for a, by in per_activity.items()]
    activities.sort(key=lambda x: (x["held_on"] or "", x["activity_id"]))
    out = {"org_id": org["_id"], "name": org["name"], "kind": org["kind"], "period": period.text, "as_of": day,
           "totals": _yuan(total), "overdrawn_branches": sum(r["overdrawn"] for r in rows), "branches": rows,
           "activities": activities}
    if org["kind"] == "branch":
        start, end = period.start.isoformat(), day
        titles = {a["activity_id"]: a["title"] for a in activities}
        out["entries"] = [{"entry_id": e["entry_id"], "on": e["on"], "kind": e["kind"], "source": e.get("source"),
                           "for_year": e.get("for_year"), "activity_id": e.get("activity_id"),
                           "activity_title": titles.get(e.get("activity_id")), "purpose": e.get("purpose"),
                           "amount": dom.yuan(e["fen"])}
                          for e in entries_of(docs.get(org["_id"])) if start <= e["on"] <= end]
    return out


async def alerts(db, branches: list[dict], day: str) -> list[dict]:
    """`funds_overdrawn` of these branches as of `day`, as `GET /alerts` lists them."""
    docs = await _docs(db, branches)
    out = []
    for b in branches:
        x = dom.overdrawn(entries_of(docs.get(b["_id"])), b["_id"], day, records_start=records_start())
        if x is not None:
            out.append(x.to_dict() | {"subject_name": b["name"]})
    return out
