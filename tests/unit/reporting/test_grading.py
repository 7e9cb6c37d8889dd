"""Five-star recommendation (domain.md): gaps cap it whatever the score; weights, thresholds and
caps are a district setting."""
import pytest

from services.reporting.domain.report import DEFAULT_GRADING, Grading, Sums, build, load_grading
from shared.periods import parse_period

pytestmark = pytest.mark.unit
Y = parse_period("2026")


def perfect(**kw) -> dict:
    # nothing to measure: every rate counts 1, the score is 100
    return build(Sums(), {}, Y, "2026-12-31", records_start=None, **kw)


def test_gaps_cap_the_recommendation():
    assert perfect()["recommended_stars"] == 5 and perfect()["score"] == 100
    assert perfect(gaps=frozenset({"no_secretary"}))["recommended_stars"] == 3
    assert perfect(gaps=frozenset({"branch_too_small"}))["recommended_stars"] == 3
    assert perfect(gaps=frozenset({"missed_meetings"}))["recommended_stars"] == 4
    assert perfect(gaps=frozenset({"missed_meetings", "no_secretary"}))["recommended_stars"] == 3
    assert perfect(gaps=frozenset({"not_a_gap"}))["recommended_stars"] == 5
    # a cap never raises a low score
    assert DEFAULT_GRADING.stars(55, {"missed_meetings"}) == 1


def test_weights_thresholds_and_caps_are_a_district_setting():
    g = load_grading('{"weights": {"compliance": 60, "ack": 0, "participation": 10, "dues": 20, "visited": 10},'
                     ' "thresholds": {"5": 95, "4": 85, "3": 75, "2": 65}, "caps": {"no_secretary": 2}}')
    assert g.stars(94) == 4 and g.stars(95) == 5
    assert g.stars(99, {"no_secretary"}) == 2 and g.stars(99, {"missed_meetings"}) == 4
    assert load_grading(None) == DEFAULT_GRADING == load_grading("")
    for bad in ('[1]', '{"weights": {"speed": 5}}', '{"caps": {"no_secretary": 9}}', 'nope'):
        with pytest.raises(ValueError, match="REPORTING_GRADING"):
            load_grading(bad)
    r = build(Sums(period={"sent": 4, "acked": 2}), {}, Y, "2026-12-31",
              records_start=None, grading=Grading(thresholds=((50, 5),)))
    assert (r["score"], r["recommended_stars"]) == (95, 5)
