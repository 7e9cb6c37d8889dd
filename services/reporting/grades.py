"""Reporting's service layer of a branch's yearly grade (issue 13, item 9): `BranchGraded` kept in
`grades`, one document per branch, `years` {"<year>": {stars, grade_class, note}}. No alert: a
grade is the department's decision, recorded as given."""
from shared.contracts import grading as c
from shared.messaging.pipeline import Context, Handler

GRADES = "grades"


def build_handlers(emit_alerts: bool = True) -> dict[str, Handler]:
    async def graded(e: c.BranchGraded, ctx: Context) -> None:
        doc = await ctx.get(GRADES, e.branch_id) or {"_id": e.branch_id, "years": {}}
        doc["years"][str(e.year)] = {"stars": e.stars, "grade_class": e.grade_class, "note": e.note}
        ctx.put(GRADES, doc)

    return {"BranchGraded": Handler(graded, lambda e: [(GRADES, e.branch_id)])}
