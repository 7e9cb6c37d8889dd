"""The members service layer of a branch's yearly grade (星级 and 类别, 晋位升级; issue 13, item 9).
The handler is listed in the one table, `handlers.HANDLERS`."""
from services.members.adapters.documents import ORGS, org_to_doc
from services.members.adapters.records import GRADES
from services.members.domain import grading
from services.members.domain import organization as orgs
from services.members.handling import day, org, save_org
from shared.contracts import grading as c
from shared.contracts import members as mc
from shared.messaging.pipeline import Context, Handler
from shared.rules import grading as rule


async def grade_branch(cmd: c.GradeBranch, ctx: Context) -> None:
    branch = orgs.require_branch(await org(ctx, cmd.branch_id), cmd.branch_id, "data.branch_id")
    before = org_to_doc(branch)
    grades = await ctx.repo(GRADES).get(branch.org_id) or grading.BranchGrades(branch.org_id)
    previous, move, steps, rate = grading.grade(grades, branch.ratings, year=cmd.year, stars=cmd.stars,
                                                grade_class=cmd.grade_class, on=day(ctx), note=cmd.note)
    if rate:
        orgs.rate(branch, year=cmd.year, stars=cmd.stars, on=day(ctx))
        save_org(ctx, before, branch)
    ctx.repo(GRADES).add(grades)
    ctx.emit(c.BranchGraded(
        branch_id=branch.org_id, year=cmd.year, stars=cmd.stars, grade_class=cmd.grade_class,
        label=rule.label(cmd.stars, cmd.grade_class), note=cmd.note, move=move, steps=steps,
        previous=c.Grade(year=previous["year"], stars=previous["stars"], grade_class=previous["grade_class"],
                         label=rule.label(previous["stars"], previous["grade_class"])) if previous else None))
    if rate:
        ctx.emit(mc.BranchRated(branch_id=branch.org_id, year=cmd.year, stars=cmd.stars))


HANDLERS: dict[str, Handler] = {
    "GradeBranch": Handler(grade_branch, lambda m: [(ORGS, m.branch_id), (GRADES.name, m.branch_id)]),
}
