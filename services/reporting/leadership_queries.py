"""Read side of a branch's leadership (issue 13): the report's sections and the alerts as of a day.

A branch's report carries its line-up, empty posts and term; an organisation's report the sums
over the branches of its subtree (one indexed query for the branches, one `$in` read of their
leadership documents, both remembered by the request's reader).
"""
from services.reporting.adapters import org_tree
from services.reporting.adapters.figures import Reader
from services.reporting.adapters.leadership_store import LEADERSHIP, leadership_of
from services.reporting.domain import leadership as dom
from services.reporting.settings import leadership_rules, records_start
from shared.periods import Period


async def _branches(reader: Reader, org: dict) -> list[dict]:
    if org["kind"] == "branch":
        return [org]
    return await org_tree.branches_below(reader.db, org["_id"])  # a query reader (DbReader)


async def report_sections(reader: Reader, org: dict, period: Period, day: str) -> dict:
    """`committee` for the organisation's report as of its reading day."""
    branches = await _branches(reader, org)
    docs = await reader.docs((LEADERSHIP, b["_id"]) for b in branches)
    rules, rs = leadership_rules(), records_start()
    detail = org["kind"] == "branch"
    committee: dict = dict.fromkeys(dom.COUNTS, 0)
    for b in branches:
        figures = dom.committee_figures(leadership_of(docs[(LEADERSHIP, b["_id"])], b), period, day, rules,
                                        records_start=rs, detail=detail)
        committee = figures if detail else dom.add_counts(committee, figures)
    return {"committee": committee}


async def alerts(db, branches: list[dict], day: str) -> list[dict]:
    """The leadership alerts of these branches as of `day`, as `GET /alerts` lists them."""
    ids = [b["_id"] for b in branches]
    docs = {x["_id"]: x async for x in db[LEADERSHIP].find({"_id": {"$in": ids}})}
    out = []
    for b in branches:
        for x in dom.alerts(leadership_of(docs.get(b["_id"]), b), day, leadership_rules(), records_start=records_start()):
            out.append(x.to_dict() | {"subject_name": b["name"]})
    return out
