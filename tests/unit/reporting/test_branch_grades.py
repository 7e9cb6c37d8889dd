"""A branch's yearly grade in reporting (issue 13, item 9): the move derived on read, and the counts."""
import pytest

from services.reporting.domain import grades as dom

pytestmark = pytest.mark.unit


def test_the_move_is_derived_from_the_year_before_whenever_it_arrived():
    years = {"2025": {"stars": 3, "grade_class": 1}}
    assert dom.grade_of(years, 2025)["move"] == "new" and dom.grade_of(years, 2024) is None
    years["2024"] = {"stars": 3, "grade_class": 2}  # the year before, recorded late
    g = dom.grade_of(years, 2025)
    assert (g["label"], g["move"], g["move_label"], g["steps"], g["previous"]["label"]) == (
        "三星一类", "up", "晋位升级", 1, "三星二类")


def test_counts_over_a_subtree_best_grades_first():
    grades = [dom.grade_of({"2025": {"stars": 5, "grade_class": 1}, "2024": {"stars": 5, "grade_class": 1}}, 2025),
              dom.grade_of({"2025": {"stars": 2, "grade_class": 3}, "2024": {"stars": 3, "grade_class": 2}}, 2025),
              dom.grade_of({"2025": {"stars": 3, "grade_class": 2}}, 2025), None]
    c = dom.counts(grades, 2025)
    assert {k: c[k] for k in ("branches", "graded", "up", "down", "same", "new")} == {
        "branches": 4, "graded": 3, "up": 0, "down": 1, "same": 1, "new": 1}
    assert list(c["by_label"]) == ["五星一类", "三星二类", "二星三类"]
