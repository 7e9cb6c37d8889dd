"""Read side of a branch's yearly grade (issue 13, item 9): the report's `grade` (a branch's grade of
the period's year with its move; over a subtree, the counts), and the grades beside the
recommendation of the year."""
from services.reporting.adapters.figures import Key, Reader
from services.reporting.domain import grades as dom
from services.reporting.grades import GRADES
from shared.periods import Period


def keys(branches: list[dict]) -> list[Key]:
    """What `report_section` reads, for a report to read it with its other sections'."""
    return [(GRADES, b["_id"]) for b in branches]


async def report_section(reader: Reader, org: dict, branches: list[dict], period: Period) -> dict:
    """`branches`: those of the organisation's subtree."""
    year = period.start.year
    docs = await reader.docs(keys(branches))
    grades = [dom.grade_of((docs[(GRADES, b["_id"])] or {}).get("years", {}), year) for b in branches]
    if org["kind"] == "branch":
        return {"grade": grades[0]}
    return {"grades": dom.counts(grades, year)}


async def grades_beside(db, branch_reports: list[dict], year: int) -> dict:
    """Each branch's grade of the year and its move, beside the year's recommendation."""
    ids = [r["org_id"] for r in branch_reports]
    docs = {d["_id"]: d async for d in db[GRADES].find({"_id": {"$in": ids}})}
    rows = []
    for r in branch_reports:
        g = dom.grade_of((docs.get(r["org_id"]) or {}).get("years", {}), year)
        rows.append({"branch_id": r["org_id"], "name": r["name"], "score": r["score"],
                     "recommended_stars": r["recommended_stars"], "stars": r["stars"], "gaps": r.get("gaps", []),
                     "grade": g})
    return {"year": year, "branches": rows, "counts": dom.counts([x["grade"] for x in rows], year)}
