"""Read side of the way into the Party (issue 13, item 5): the pipeline per branch, the
`probation_overdue` alerts, and the 最美入党积极分子 candidates."""
from services.reporting.activists import APPLICANTS
from services.reporting.adapters import org_tree
from services.reporting.domain import activists as dom
from services.reporting.domain.report import reading_day
from services.reporting.settings import records_start
from shared.periods import Period


async def docs_of(db, branches: list[dict]) -> list[dict]:
    ids = [b["_id"] for b in branches]
    return await db[APPLICANTS].find({"branch_id": {"$in": ids}}).to_list(None) if ids else []


async def pipeline(db, org: dict, period: Period, as_of: str) -> dict:
    day = reading_day(period, as_of)
    branches = await org_tree.branches_under(db, org)
    docs = await docs_of(db, branches)
    by_branch: dict[str, list[dict]] = {b["_id"]: [] for b in branches}
    for d in docs:
        by_branch.setdefault(d["branch_id"], []).append(d)
    rows = [{"branch_id": b["_id"], "name": b["name"], **dom.figures(by_branch[b["_id"]], period, day)}
            for b in branches]
    out = {"org_id": org["_id"], "name": org["name"], "kind": org["kind"], "period": period.text, "as_of": day,
           "totals": dom.figures(docs, period, day), "branches": rows}
    if org["kind"] == "branch":
        people = [p for d in docs if (p := dom.person(d, day))]
        out["people"] = sorted(people, key=lambda p: (dom.STAGES.index(p["stage"]) if p["stage"] in dom.STAGES else 9,
                                                      p["since"], p["applicant_id"]))
    return out


async def alerts(db, branches: list[dict], day: str) -> list[dict]:
    out = []
    for d in await docs_of(db, branches):
        x = dom.overdue_alert(d, day, records_start=records_start())
        if x is not None:
            out.append(x.to_dict() | {"subject_name": d.get("name")})
    return out


async def best_activists(db, branches: list[dict], year: int, day: str) -> list[dict]:
    return dom.rank_activists(await docs_of(db, branches), year, day, {b["_id"]: b["name"] for b in branches})
