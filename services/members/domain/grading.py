"""A branch's yearly grade (星级 and 类别, issue 13, item 9). Pure.

Kept in `BranchGrades.grades` [{year, stars, grade_class, on, note}]. Rules:
- one grade per branch and year (`duplicate`, `data.year`), as the rating it includes;
- a year not begun on the command's day is `invalid` (`data.year`);
- the stars are the branch's rating of the year: a year already rated with other stars is a
  `conflict` (`data.stars`); a year not yet rated is rated by the grade (the caller records it).
"""
from dataclasses import dataclass, field

from shared.errors import conflict, duplicate, invalid
from shared.rules import grading as rule


@dataclass
class BranchGrades:
    branch_id: str
    grades: list[dict] = field(default_factory=list)

    def of(self, year: int) -> dict | None:
        return next((g for g in self.grades if g["year"] == year), None)


def grade(grades: BranchGrades, ratings: list[dict], *, year: int, stars: int, grade_class: int, on: str,
          note: str | None = None) -> tuple[dict | None, str, int, bool]:
    """Record the grade. Returns (the previous year's grade or None, move, steps, whether the
    year must be rated too)."""
    if year > int(on[:4]):
        raise invalid(f"{year} has not begun on {on}", "data.year")
    if grades.of(year) is not None:
        given = grades.of(year)
        raise duplicate(f"branch {grades.branch_id} was already graded {rule.label(given['stars'], given['grade_class'])} "
                        f"for {year}", "data.year")
    rated = next((r["stars"] for r in ratings if r["year"] == year), None)
    if rated is not None and rated != stars:
        raise conflict(f"branch {grades.branch_id} was rated {rated} stars for {year}", "data.stars")
    previous = grades.of(year - 1)
    move, steps = rule.move((previous["stars"], previous["grade_class"]) if previous else None, (stars, grade_class))
    grades.grades.append({"year": year, "stars": stars, "grade_class": grade_class, "on": on, "note": note})
    grades.grades.sort(key=lambda g: g["year"])
    return previous, move, steps, rated is None
