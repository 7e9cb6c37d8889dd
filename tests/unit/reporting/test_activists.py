"""The way into the Party in reporting (issue 13, item 5): stages on a day, the period's changes and
the probation_overdue alert (domain/activists.py)."""
import pytest

from services.reporting.domain import activists as dom
from shared.periods import parse_period

pytestmark = pytest.mark.unit


def doc(_id, *stages):
    return {"_id": _id, "branch_id": "b", "name": _id, "contacts": [],
            "history": {str(i + 1): {"stage": s, "on": on, "seq": i + 1} for i, (s, on) in enumerate(stages)}}


DOCS = [doc("p1", ("applicant", "2024-01-05"), ("activist", "2024-03-01"), ("development_target", "2025-04-01"),
            ("probationary", "2025-06-01")),
        doc("p2", ("applicant", "2026-02-01"), ("activist", "2026-04-01"), ("applicant", "2026-09-01")),
        doc("p3", ("applicant", "2026-03-01"), ("withdrawn", "2026-05-01"))]


def test_stages_on_a_day_and_the_changes_of_the_period():
    f = dom.figures(DOCS, parse_period("2026"), "2026-12-31")
    assert {k: f[k] for k in ("applicant", "activist", "development_target", "probationary", "applied", "to_activist",
                              "set_back", "withdrawn", "probation_overdue")} == {
        "applicant": 1, "activist": 0, "development_target": 0, "probationary": 1, "applied": 2, "to_activist": 1,
        "set_back": 1, "withdrawn": 1, "probation_overdue": 1}
    assert dom.figures(DOCS, parse_period("2026"), "2026-05-31")["activist"] == 1
    p = dom.person(DOCS[1], "2026-05-01")
    assert (p["stage"], p["since"], p["next_from"]) == ("activist", "2026-04-01", "2027-04-02")


def test_a_probation_past_its_year_is_overdue_until_decided():
    x = dom.overdue_alert(DOCS[0], "2026-06-02")
    assert (x.kind, x.subject_id, x.org_id, x.since, x.details) == (
        "probation_overdue", "p1", "b", "2026-06-02", {"probation_ends_on": "2026-06-01"})
    assert dom.overdue_alert(DOCS[0], "2026-06-01") is None
    decided = doc("p1", *[(h["stage"], h["on"]) for h in dom.history(DOCS[0])], ("full_member", "2026-06-20"))
    assert dom.overdue_alert(decided, "2026-07-01") is None


def test_no_probation_overdue_alert_is_dated_before_the_records_began():
    x = dom.overdue_alert(DOCS[0], "2026-08-01", records_start="2026-07-01")
    assert (x.since, x.details) == ("2026-07-01", {"probation_ends_on": "2026-06-01"})
    assert dom.overdue_alert(DOCS[0], "2026-06-30", records_start="2026-07-01") is None
    assert dom.overdue_alert(DOCS[0], "2026-08-01", records_start="2026-01-01").since == "2026-06-02"
