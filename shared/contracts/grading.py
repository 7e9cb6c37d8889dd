"""members.commands and members.events of a branch's yearly grade (星级 and 类别, issue 13, item 9):
the department grades each branch once a year in stars and a class, e.g. 三星二类 (three stars,
class two), and the move from the year before (晋位升级: up, down, the same).

Keyed by `branch_id`. The grade's stars are the branch's rating of that year (`RateBranch`): a
grade for a year not yet rated also rates it (`BranchRated` follows `BranchGraded`).
"""
from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.base import Loose
from shared.contracts.members import _MemberCommand, _MemberEvent
from shared.contracts.types import Id

GradeMove = Literal["up", "down", "same", "new"]  # 晋位升级 · 降级 · 持平 · 无上年评定


class GradeBranch(_MemberCommand):
    """The department's grade of a branch for a year: stars (1–5) and class (1–3: 一类 best)."""

    KEY: ClassVar[str] = "branch_id"
    branch_id: Id
    year: int = Field(ge=1921, le=2200)
    stars: int = Field(ge=1, le=5)
    grade_class: int = Field(ge=1, le=3, description="类别: 1 一类, 2 二类, 3 三类")
    note: str | None = Field(default=None, max_length=500)


class Grade(Loose):
    year: int
    stars: int
    grade_class: int
    label: str  # e.g. 三星二类


class BranchGraded(_MemberEvent):
    KEY: ClassVar[str] = "branch_id"
    branch_id: Id
    year: int
    stars: int
    grade_class: int
    label: str
    note: str | None = None
    previous: Grade | None = None  # the grade of the year before, when there is one
    move: GradeMove = "new"
    steps: int = 0  # places moved on the ladder 一星三类 … 五星一类 (positive: up)
