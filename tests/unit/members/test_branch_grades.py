"""A branch's yearly grade (issue 13, item 9): the ladder (shared/rules/grading.py), the rules
(domain/grading.py) and the handler over the in-memory unit of work."""
import pytest

from services.members.adapters.documents import ORGS
from services.members.domain import grading
from services.members.handlers import HANDLERS
from shared.errors import Rejected
from shared.rules import grading as rule
from tests.support.fake_uow import FakeUnitOfWork, handle, refusal
from tests.support.messages import envelope
from tests.support.scenario import tree

pytestmark = pytest.mark.unit


def test_the_ladder_and_its_labels():
    assert rule.label(3, 2) == "三星二类" and rule.label(5, 1) == "五星一类"
    assert rule.place(1, 3) == 1 and rule.place(5, 1) == 15
    assert rule.move((3, 2), (3, 1)) == ("up", 1)  # a better class within the same stars
    assert rule.move((4, 3), (3, 1)) == ("down", -1)  # fewer stars weigh more than a better class
    assert rule.move((2, 2), (4, 2)) == ("up", 6)
    assert rule.move(None, (4, 2)) == ("new", 0) and rule.move((4, 2), (4, 2)) == ("same", 0)


def test_one_grade_a_year_not_before_the_year_and_its_stars_are_the_rating():
    g = grading.BranchGrades("b")
    assert grading.grade(g, [], year=2024, stars=3, grade_class=2, on="2025-01-10") == (None, "new", 0, True)
    previous, move, steps, rate = grading.grade(g, [{"year": 2025, "stars": 4}], year=2025, stars=4, grade_class=3,
                                                on="2025-12-20")
    assert (previous["year"], move, steps, rate) == (2024, "up", 2, False)
    for kw, field in ((dict(year=2025, stars=4, grade_class=3), "data.year"),
                      (dict(year=2027, stars=4, grade_class=3), "data.year")):
        with pytest.raises(Rejected) as r:
            grading.grade(g, [], on="2026-01-01", **kw)
        assert r.value.errors[0]["field"] == field
    with pytest.raises(Rejected) as r:
        grading.grade(g, [{"year": 2026, "stars": 5}], year=2026, stars=4, grade_class=1, on="2026-12-01")
    assert (r.value.reason, r.value.errors[0]["field"]) == ("conflict", "data.stars")


async def test_the_handler_grades_rates_and_tells_the_move():
    ids, cmds = tree(1)
    uow = FakeUnitOfWork()
    for cmd in cmds:
        await handle(HANDLERS, cmd, uow)
    b = ids["branches"][0]

    def grade(year, stars, cls, at):
        return envelope("GradeBranch", {"branch_id": b, "year": year, "stars": stars, "grade_class": cls},
                        occurred_at=f"{at}T10:00:00+08:00")
    first = await handle(HANDLERS, grade(2024, 3, 2, "2025-01-15"), uow)
    assert [e["type"] for e in first] == ["BranchGraded", "BranchRated"]
    assert (first[0]["data"]["label"], first[0]["data"]["move"], first[0]["data"]["previous"]) == ("三星二类", "new", None)
    await handle(HANDLERS, envelope("RateBranch", {"branch_id": b, "year": 2025, "stars": 4},
                                    occurred_at="2025-12-01T10:00:00+08:00"), uow)
    [second] = await handle(HANDLERS, grade(2025, 4, 1, "2025-12-20"), uow)  # already rated: no BranchRated
    assert (second["data"]["label"], second["data"]["move"], second["data"]["steps"]) == ("四星一类", "up", 4)
    assert second["data"]["previous"] == {"year": 2024, "stars": 3, "grade_class": 2, "label": "三星二类"}
    uow.commit()
    assert [r["year"] for r in uow.docs[ORGS][b]["ratings"]] == [2024, 2025]
    uow = FakeUnitOfWork(uow.docs)
    assert await refusal(HANDLERS, grade(2025, 4, 1, "2025-12-21"), uow) == ("duplicate", ["data.year"])
    assert await refusal(HANDLERS, envelope("RateBranch", {"branch_id": b, "year": 2024, "stars": 3}), uow) == (
        "duplicate", ["data.year"])
