"""A branch's leadership in reporting: the rules with worked examples (domain/leadership.py) and
the handlers over the in-memory unit of work (leadership.py)."""
import asyncio
import json

import pytest

from services.reporting.adapters.documents import ORGS
from services.reporting.adapters.leadership_store import LEADERSHIP
from services.reporting.domain import leadership as dom
from services.reporting.handlers import build_handlers
from shared.contracts import leadership as c
from shared.contracts import members as m
from shared.contracts.parsing import parse_object
from shared.periods import parse_period
from tests.integration.reporting.support import event
from tests.unit.reporting.memory import Store

pytestmark = pytest.mark.unit
RULES = dom.LeadershipRules()


def committee(**kw) -> dom.Leadership:
    """A branch with a committee, established 2010; elected on 15 March 2021 for five years,
    without a discipline member."""
    b = dom.Leadership("b", "2010-01-06", has_committee=True, **kw)
    for post, member in (("secretary", "m1"), ("organization_member", "m2"), ("propaganda_member", "m3")):
        dom.appointed(b.posts, post=post, member_id=member, name=None, on="2021-03-15")
    dom.term_begun(b.terms, election_id="e1", started_on="2021-03-15", ends_on="2026-03-15")
    return b


def kinds(alerts) -> dict:
    return {a.kind: a for a in alerts}


def test_a_post_never_filled_is_empty_since_the_records_began_and_alerts_after_90_days():
    b = committee()
    assert b.vacancies("2025-03-01", "2025-01-01") == {"discipline_member": "2025-01-01"}
    assert "post_vacant" not in kinds(dom.alerts(b, "2025-04-01", RULES, records_start="2025-01-01"))  # 90 days
    a = kinds(dom.alerts(b, "2025-04-02", RULES, records_start="2025-01-01"))["post_vacant"]
    assert (a.level, a.since, a.details) == ("warning", "2025-04-02",
                                             {"posts": {"discipline_member": "2025-01-01"}, "limit_days": 90})
    assert a.alert_id == "post_vacant:b:2025-04-02"
    # without records start: empty since the branch was established
    assert kinds(dom.alerts(b, "2025-04-02", RULES))["post_vacant"].details["posts"] == {
        "discipline_member": "2010-01-06"}


def test_an_empty_secretary_post_is_an_alert_and_a_filled_post_clears_it():
    b = committee()
    dom.appointed(b.posts, post="discipline_member", member_id="m4", name=None, on="2024-01-01")
    dom.removed(b.posts, post="secretary", member_id="m1", on="2025-02-10")
    assert b.secretary_on("2025-02-09") == "m1" and b.secretary_on("2025-02-10") is None
    a = kinds(dom.alerts(b, "2025-05-12", RULES))["post_vacant"]
    assert (a.level, a.since, a.details["posts"]) == ("alert", "2025-05-12", {"secretary": "2025-02-10"})
    dom.appointed(b.posts, post="secretary", member_id="m2", name=None, on="2025-06-01")
    assert "post_vacant" not in kinds(dom.alerts(b, "2025-06-01", RULES))
    assert "post_vacant" in kinds(dom.alerts(b, "2025-05-31", RULES))  # as of an earlier day: reproducible


def test_a_term_is_overdue_the_day_after_it_ends_and_an_alert_six_months_on():
    b = committee()
    dom.appointed(b.posts, post="discipline_member", member_id="m4", name=None, on="2021-03-15")
    assert dom.alerts(b, "2026-03-15", RULES) == []
    a = kinds(dom.alerts(b, "2026-03-16", RULES))["term_overdue"]
    assert (a.level, a.since, a.details["term_ends_on"]) == ("warning", "2026-03-16", "2026-03-15")
    assert kinds(dom.alerts(b, "2026-09-15", RULES))["term_overdue"].level == "warning"
    assert kinds(dom.alerts(b, "2026-09-16", RULES))["term_overdue"].level == "alert"
    dom.term_begun(b.terms, election_id="e2", started_on="2026-10-10", ends_on="2031-10-10")
    assert dom.alerts(b, "2026-10-10", RULES, trainings={"m1": ["2026-03-18"]}) == []
    assert dom.alerts(dom.Leadership("b", "2010-01-06", org_secretary="m1"), "2030-01-01", RULES) == []  # no term known


def test_a_secretary_untrained_in_the_year_is_flagged_from_october():
    b = committee()
    dom.appointed(b.posts, post="discipline_member", member_id="m4", name=None, on="2021-03-15")
    assert dom.alerts(b, "2025-09-30", RULES) == []  # not yet: the year's last quarter may still catch up
    a = kinds(dom.alerts(b, "2025-10-01", RULES, trainings={"m1": ["2024-09-16"]}))["secretary_untrained"]
    assert (a.subject_id, a.org_id, a.level, a.since) == ("m1", "b", "warning", "2025-10-01")
    assert a.details == {"year": 2025, "last_training": "2024-09-16"}
    assert a.alert_id == "secretary_untrained:m1:2025-10-01"
    assert dom.alerts(b, "2025-10-01", RULES, trainings={"m1": ["2025-09-16"]}) == []  # trained this year
    assert dom.alerts(b, "2026-01-02", RULES, trainings={"m1": []}) == []  # a new year begins
    # a secretary appointed in August has 90 days before being flagged
    dom.appointed(b.posts, post="secretary", member_id="m5", name="陈淑珍", on="2025-08-20")
    assert dom.alerts(b, "2025-11-17", RULES) == []
    a = kinds(dom.alerts(b, "2025-11-18", RULES))["secretary_untrained"]
    assert (a.subject_id, a.since) == ("m5", "2025-11-18")
    nobody = dom.alerts(dom.Leadership("b", "2010-01-06"), "2025-12-01", RULES)
    assert [a.kind for a in nobody] == ["post_vacant"]  # no secretary: no one to train


def test_training_coverage_of_a_branch_and_of_a_subtree():
    year = parse_period("2025")
    trained = dom.training_figures(committee(), year, "2025-12-31", ["2024-09-16", "2025-03-18", "2025-09-16"],
                                   detail=True)
    assert trained == {"secretaries": 1, "trained": 1, "secretary_sessions": 2,
                       "secretary": {"member_id": "m1", "name": None, "trained": True, "last_training": "2025-09-16"}}
    other = dom.training_figures(dom.Leadership("o", "2010-01-06", org_secretary="m9"), year, "2025-12-31", [])
    none = dom.training_figures(dom.Leadership("n", "2010-01-06"), year, "2025-12-31", [])
    total = dom.add_counts(dom.add_counts(dom.add_counts({}, trained, dom.TRAINING_COUNTS), other,
                                          dom.TRAINING_COUNTS), none, dom.TRAINING_COUNTS)
    assert dom.with_coverage(total) == {"secretaries": 2, "trained": 1, "secretary_sessions": 2, "untrained": 1,
                                        "coverage": 0.5}
    assert dom.with_coverage(none)["coverage"] == 0.0


def test_a_merged_branch_and_a_branch_before_its_establishment_raise_nothing():
    assert dom.alerts(committee(merged_on="2025-01-01"), "2025-06-01", RULES) == []
    assert dom.alerts(dom.Leadership("b", "2025-06-01"), "2025-05-01", RULES) == []


def test_the_committee_figures_of_a_branch_and_of_a_subtree():
    b = committee()
    period = parse_period("2026")
    f = dom.committee_figures(b, period, "2026-12-31", RULES, detail=True)
    assert {k: f[k] for k in dom.COUNTS} == {
        "branches": 1, "posts_required": 4, "posts_filled": 3, "posts_vacant": 1, "posts_vacant_too_long": 1,
        "terms_known": 1, "terms_overdue": 1, "elections_held": 0}
    assert [x["post"] for x in f["line_up"]] == ["secretary", "organization_member", "propaganda_member"]
    assert f["term"]["overdue"] and f["vacant_posts"] == [{"post": "discipline_member", "since": "2010-01-06"}]
    small = dom.Leadership("s", "2010-01-06", org_secretary="m9")  # no committee: a secretary, set before posts
    g = dom.committee_figures(small, period, "2026-12-31", RULES)
    assert (g["posts_required"], g["posts_filled"], g["terms_known"]) == (1, 1, 0) and "line_up" not in g
    total = dom.add_counts(dom.add_counts({}, f), g)
    assert (total["branches"], total["posts_required"], total["posts_vacant"]) == (2, 5, 1)


# ---- the handlers -------------------------------------------------------------------------------

def play(store: Store, *events: dict) -> None:
    handlers = build_handlers()
    for e in events:
        parsed = parse_object(json.loads(json.dumps(e)))
        asyncio.run(handlers[e["type"]].handle(parsed.message, store.context(parsed.envelope)))
        store.uow.commit_message()
    store.commit()


def alerts_of(store: Store, kind: str) -> list[dict]:
    announced = [json.loads(r.value) for r in store.events]
    return [e for e in announced if e["type"] in ("AlertRaised", "AlertCleared") and e["data"]["kind"] == kind]


def branch_established(b: str) -> dict:
    return event(m.OrganizationEstablished, "2010-01-06", org_id=b, name="天鹅湖社区退休党支部", kind="branch",
                 parent_id="c", ancestors=["d", "s", "c"], has_committee=True)


def test_an_election_then_a_secretary_leaving_raise_and_clear_alerts():
    store, b = Store(), "b1"
    elected = [("secretary", "m1"), ("organization_member", "m2"), ("propaganda_member", "m3"),
               ("discipline_member", "m4")]
    play(store, branch_established(b),
         event(c.ElectionRecorded, "2021-03-15", election_id="e1", branch_id=b, held_on="2021-03-15", kind="general",
               eligible=9, present=9, elected=[{"member_id": mm, "post": p, "votes": 9} for p, mm in elected],
               term_started_on="2021-03-15", term_ends_on="2026-03-15"),
         *[event(c.CommitteeMemberAppointed, "2021-03-15", branch_id=b, post=p, member_id=mm, on="2021-03-15",
                 election_id="e1") for p, mm in elected],
         event(m.SecretaryAppointed, "2021-03-15", branch_id=b, member_id="m1"))
    doc = store.doc(LEADERSHIP, b)
    assert [t["ends_on"] for t in doc["terms"]] == ["2026-03-15"] and len(doc["posts"]) == 4
    assert doc["open_alerts"] == [] and doc["evaluated_on"] == "2021-03-15"
    # the secretary dies in 2026: the post is empty, the term is overdue, and the branch has no secretary
    play(store, event(c.CommitteeMemberRemoved, "2026-04-01", branch_id=b, post="secretary", member_id="m1",
                      on="2026-04-01", reason="died"))
    [overdue] = alerts_of(store, "term_overdue")
    assert (overdue["type"], overdue["data"]["since"], overdue["data"]["as_of"]) == (
        "AlertRaised", "2026-03-16", "2026-04-01")
    assert store.doc(ORGS, b)["secretary_id"] is None
    assert [x["type"] for x in alerts_of(store, "no_secretary")] == ["AlertRaised"]
    # 91 days later, as of an event: the secretary's post has been empty too long
    play(store, event(c.CommitteeMemberRemoved, "2026-07-01", branch_id=b, post="propaganda_member",
                      member_id="m3", on="2026-07-01", reason="resigned"))
    [vacant] = alerts_of(store, "post_vacant")
    assert (vacant["data"]["level"], vacant["data"]["details"]["posts"]) == ("alert", {"secretary": "2026-04-01"})
    # a general election fills every post and begins a new term: both alerts clear
    new = [("secretary", "m2"), ("organization_member", "m5"), ("propaganda_member", "m6"),
           ("discipline_member", "m4")]
    play(store, event(c.ElectionRecorded, "2026-07-10", election_id="e2", branch_id=b, held_on="2026-07-10",
                      kind="general", eligible=9, present=9,
                      elected=[{"member_id": mm, "post": p, "votes": 9} for p, mm in new],
                      term_started_on="2026-07-10", term_ends_on="2031-07-10"),
         *[event(c.CommitteeMemberAppointed, "2026-07-10", branch_id=b, post=p, member_id=mm, on="2026-07-10",
                 election_id="e2") for p, mm in new])
    assert [x["type"] for x in alerts_of(store, "term_overdue")] == ["AlertRaised", "AlertCleared"]
    assert [x["type"] for x in alerts_of(store, "post_vacant")] == ["AlertRaised", "AlertCleared"]
    assert store.doc(LEADERSHIP, b)["open_alerts"] == []


def test_an_alert_is_announced_once_while_it_lasts():
    store, b = Store(), "b2"
    play(store, branch_established(b),
         event(c.CommitteeMemberAppointed, "2024-01-05", branch_id=b, post="secretary", member_id="m1",
               on="2024-01-05"))
    [raised] = alerts_of(store, "post_vacant")  # the committee's other posts were never filled
    assert raised["data"]["details"]["posts"] == {p: "2010-01-06" for p in
                                                  ("discipline_member", "organization_member", "propaganda_member")}
    play(store, event(c.CommitteeMemberAppointed, "2024-02-01", branch_id=b, post="deputy_secretary",
                      member_id="m2", on="2024-02-01"))
    assert alerts_of(store, "post_vacant") == [raised]  # evaluated again, unchanged: nothing announced
    assert store.doc(LEADERSHIP, b)["evaluated_on"] == "2024-02-01"


def test_a_secretary_trained_late_in_the_year_clears_the_alert():
    store, b = Store(), "b3"
    small = event(m.OrganizationEstablished, "2010-01-06", org_id=b, name="北岸明珠社区退休党支部", kind="branch",
                  parent_id="c", ancestors=["d", "s", "c"])
    play(store, small, event(c.CommitteeMemberAppointed, "2025-01-05", branch_id=b, post="secretary",
                             member_id="m1", member_name="王秀英", on="2025-01-05"))
    assert alerts_of(store, "secretary_untrained") == []
    # an event about the branch in October: its secretary has had no training this year
    play(store, event(c.TrainingSessionRecorded, "2025-10-02", session_id="t0", title="党务知识讲座", held_on="2025-10-02",
                      org_id="d", hours="2", attendees=[{"member_id": "m2", "branch_id": b}]))
    [raised] = alerts_of(store, "secretary_untrained")
    assert (raised["data"]["subject_id"], raised["data"]["org_id"], raised["data"]["since"]) == ("m1", b, "2025-10-01")
    assert store.doc("trainees", "m2")["sessions"]["t0"] == {"held_on": "2025-10-02", "hours": "2",
                                                             "title": "党务知识讲座"}
    play(store, event(c.TrainingAttendanceRecorded, "2025-10-20", session_id="t1", title="支部书记培训班",
                      held_on="2025-10-20", hours="6", attendee={"member_id": "m1", "branch_id": b,
                                                                 "posts": ["secretary"]}))
    assert [x["type"] for x in alerts_of(store, "secretary_untrained")] == ["AlertRaised", "AlertCleared"]


def test_the_allowance_due_and_paid_in_a_period():
    b = dom.Leadership("b", "2010-01-06", allowance_rates=[{"from_month": "2025-01", "amount": "300.00"},
                                                           {"from_month": "2025-07", "amount": "400.00"}])
    dom.appointed(b.posts, post="secretary", member_id="m1", name="王秀英", on="2024-10-28")
    dom.removed(b.posts, post="secretary", member_id="m1", on="2025-04-20")
    dom.appointed(b.posts, post="secretary", member_id="m2", name="李建国", on="2025-05-15")
    b.allowance_payments = [
        {"member_id": "m1", "paid_on": "2025-04-08", "months": [{"month": m, "amount": "300.00"}
                                                                for m in ("2025-01", "2025-02", "2025-03")]},
        {"member_id": "m2", "paid_on": "2025-10-09", "months": [{"month": m, "amount": a} for m, a in
                                                                (("2025-07", "400.00"), ("2025-08", "400.00"))]}]
    year = parse_period("2025")
    f = dom.allowance_figures(b, year, "2025-09-30", detail=True)
    assert [(x["month"], x["member_id"], x["due"], x["paid"]) for x in f["months"]] == [
        ("2025-01", "m1", "300.00", True), ("2025-02", "m1", "300.00", True), ("2025-03", "m1", "300.00", True),
        ("2025-04", "m1", "300.00", False), ("2025-05", "m2", "300.00", False), ("2025-06", "m2", "300.00", False),
        ("2025-07", "m2", "400.00", False), ("2025-08", "m2", "400.00", False), ("2025-09", "m2", "400.00", False)]
    # paid on 9 October: not yet paid as of 30 September, paid as of the year's end
    assert dom.with_amounts({k: f[k] for k in dom.ALLOWANCE_COUNTS}) == {
        "months_due": 9, "months_paid": 3, "amount_due": "3000.00", "amount_paid": "900.00", "amount_unpaid": "2100.00"}
    end = dom.with_amounts(dom.allowance_figures(b, year, "2025-12-31"))
    assert (end["months_due"], end["amount_due"], end["amount_paid"], end["amount_unpaid"]) == (
        12, "4200.00", "1700.00", "2500.00")
    q3 = dom.with_amounts(dom.allowance_figures(b, parse_period("2025-Q3"), "2025-12-31"))
    assert (q3["months_due"], q3["amount_due"], q3["amount_paid"]) == (3, "1200.00", "800.00")
    assert dom.allowance_figures(b, year, "2025-12-31", records_start="2025-06-01")["months_due"] == 7


def test_assessments_of_the_period_s_year():
    b = dom.Leadership("b", "2010-01-06", assessments=[
        {"year": 2024, "member_id": "m1", "name": "王秀英", "result": "competent"},
        {"year": 2025, "member_id": "m1", "name": "王秀英", "result": "excellent"},
        {"year": 2025, "member_id": "m2", "name": "李建国", "result": "basically_competent"}])
    f = dom.assessment_figures(b, 2025, detail=True)
    assert {k: f[k] for k in ("assessed", "excellent", "basically_competent", "incompetent")} == {
        "assessed": 2, "excellent": 1, "basically_competent": 1, "incompetent": 0}
    assert [x["member_id"] for x in f["results"]] == ["m1", "m2"]


def test_the_allowance_and_assessment_events_are_kept_on_the_branch():
    store, b = Store(), "b4"
    play(store, branch_established(b),
         event(c.SecretaryAllowanceSet, "2025-01-02", branch_id=b, from_month="2025-01", monthly_amount="300.00"),
         event(c.AllowancePaid, "2025-04-08", payment_id="ap1", branch_id=b, member_id="m1", from_month="2025-01",
               to_month="2025-01", months=[{"month": "2025-01", "amount": "300.00"}], amount="300.00",
               paid_on="2025-04-08"),
         event(c.SecretaryAssessed, "2025-01-08", branch_id=b, member_id="m1", year=2024, result="competent"),
         event(c.SecretaryAssessed, "2025-01-09", branch_id=b, member_id="m1", year=2024, result="excellent",
               replaces="competent"))
    doc = store.doc(LEADERSHIP, b)
    assert doc["allowance_rates"] == [{"from_month": "2025-01", "amount": "300.00"}]
    assert doc["allowance_payments"]["ap1"]["months"] == [{"month": "2025-01", "amount": "300.00"}]
    assert doc["assessments"] == {"2024|m1": {"year": 2024, "member_id": "m1", "name": None, "result": "excellent"}}
