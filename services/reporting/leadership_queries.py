"""Read side of a branch's leadership (issue 13): the report's sections and the alerts as of a day.

A branch's report carries its line-up, empty posts and term; an organisation's report the sums
over the branches of its subtree (the report reads them once for all its sections; one `$in`
read of their leadership documents, remembered by the request's reader).
"""
from services.reporting.adapters.figures import Key, Reader
from services.reporting.adapters.leadership_store import LEADERSHIP, TRAINEES, leadership_of, training_days
from services.reporting.domain import leadership as dom
from services.reporting.settings import leadership_rules, records_start
from shared.periods import Period


def keys(branches: list[dict]) -> list[Key]:
    """What `report_sections` reads, for a report to read it with its other sections' at once:
    the branches' leadership, and the training of the secretaries their `orgs` documents name
    (most often each branch's secretary on the reading day; the posts decide, and a secretary
    they name otherwise is read once the leadership documents are)."""
    secretaries = sorted({b["secretary_id"] for b in branches if b.get("secretary_id")})
    return [*((LEADERSHIP, b["_id"]) for b in branches), *((TRAINEES, s) for s in secretaries)]


async def report_sections(reader: Reader, org: dict, branches: list[dict], period: Period, day: str) -> dict:
    """`committee`, `training`, `allowance` and `assessments` for the organisation's report as of
    its reading day, over `branches`, those of its subtree; `allowance.branches` says how many
    secretaries' posts its sums cover (one: a person's pay, masked as such)."""
    docs = await reader.docs(keys(branches))
    ofs = [leadership_of(docs[(LEADERSHIP, b["_id"])], b) for b in branches]
    trainings = await _trainings(reader, ofs, day)
    rules, rs = leadership_rules(), records_start()
    detail = org["kind"] == "branch"
    committee: dict = dict.fromkeys(dom.COUNTS, 0)
    training: dict = dict.fromkeys(dom.TRAINING_COUNTS, 0)
    pay: dict = dict.fromkeys(dom.ALLOWANCE_COUNTS, 0)
    assessed: dict = dict.fromkeys(("assessed", *dom.RESULTS), 0)
    for b in ofs:
        c = dom.committee_figures(b, period, day, rules, records_start=rs, detail=detail)
        t = dom.training_figures(b, period, day, trainings.get(b.secretary_on(day), []), detail=detail)
        a = dom.allowance_figures(b, period, day, records_start=rs, detail=detail)
        r = dom.assessment_figures(b, period.start.year, detail=detail)
        committee = c if detail else dom.add_counts(committee, c)
        training = t if detail else dom.add_counts(training, t, dom.TRAINING_COUNTS)
        pay = a if detail else dom.add_counts(pay, a, dom.ALLOWANCE_COUNTS)
        assessed = r if detail else dom.add_counts(assessed, r, ("assessed", *dom.RESULTS))
    return {"committee": committee, "training": dom.with_coverage(training),
            "allowance": dom.with_amounts(pay) | {"branches": len(ofs)},
            "assessments": {"year": period.start.year, **assessed}}


async def _trainings(reader: Reader, branches: list[dom.Leadership], day: str) -> dict[str, list[str]]:
    """The days of the sessions each branch's secretary on `day` attended."""
    secretaries = sorted({s for b in branches if (s := b.secretary_on(day))})
    docs = await reader.docs((TRAINEES, s) for s in secretaries)
    return {s: training_days(docs[(TRAINEES, s)]) for s in secretaries}


async def alerts(db, branches: list[dict], day: str) -> list[dict]:
    """The leadership alerts of these branches as of `day`, as `GET /alerts` lists them."""
    ids = [b["_id"] for b in branches]
    docs = {x["_id"]: x async for x in db[LEADERSHIP].find({"_id": {"$in": ids}})}
    ofs = {b["_id"]: leadership_of(docs.get(b["_id"]), b) for b in branches}
    secretaries = sorted({s for b in ofs.values() if (s := b.secretary_on(day))})
    trainings = {x["_id"]: training_days(x) async for x in db[TRAINEES].find({"_id": {"$in": secretaries}})}
    out = []
    for b in branches:
        lead = ofs[b["_id"]]
        names = {h["member_id"]: h["name"] for h in lead.holders(day).values()}
        for x in dom.alerts(lead, day, leadership_rules(), records_start=records_start(), trainings=trainings):
            name = b["name"] if x.subject_id == b["_id"] else names.get(x.subject_id) or x.subject_id
            out.append(x.to_dict() | {"subject_name": name})
    return out
