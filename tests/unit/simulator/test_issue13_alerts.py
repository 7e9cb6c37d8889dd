"""The alerts of issue 13 the simulator intends (simulator/leadership_alerts.py, records_alerts.py), each
rule on a plan made for it, and the demo's stories in the simulated year."""
from datetime import date

import pytest

from simulator.leadership import BranchLeadership, Election, Session
from simulator.leadership_alerts import (Rules, leadership_alerts, line_up, post_vacant, secretary_untrained,
                                        term_overdue)
from simulator.records_alerts import negative_since, probation_overdue, records_alerts, request_overdue
from simulator.services import Requests
from simulator.world import build

pytestmark = pytest.mark.unit

START = date(2025, 1, 1)  # RECORDS_START, as the e2e and `make demo` set it
RULES = Rules()  # reporting's defaults


@pytest.fixture(scope="module")
def world():
    return build(20250, 40, 2025)


@pytest.fixture
def branch(world, monkeypatch):
    """天鹅湖 (a committee) with a plan of the test's own, its secretary taken from that plan."""
    b = next(b for b in world.branches if b.short == "天鹅湖")
    assert b.has_committee
    monkeypatch.setitem(world.leadership.branches, b.org_id, BranchLeadership())
    monkeypatch.setattr(b, "secretary_id", None)
    monkeypatch.setattr(world.leadership, "sessions", [])
    return b


def staying(world, b) -> list[str]:
    """Members of the branch there since before the year, all year."""
    return [mid for mid in b.member_ids if world.member(mid).registered_on.year < 2024
            and world.member(mid).died_on is None and world.member(mid).transferred_on is None]


def elect(world, b, held_on: date, kind: str = "general", posts=("secretary", "organization_member",
                                                                 "propaganda_member", "discipline_member")):
    ms = staying(world, b)
    e = Election(f"t/{held_on}", held_on, kind, 7, 7, [(ms[i], post, 7) for i, post in enumerate(posts)])
    world.leadership.branches[b.org_id].elections.append(e)
    return e


def kinds(alerts, kind):
    return sorted((a["subject_id"], a["level"], a["since"]) for a in alerts if a["kind"] == kind)


# ---- post_vacant ----------------------------------------------------------------------------------

def test_a_post_never_filled_is_empty_from_the_records_start_and_past_the_limit_after_90_days(world, branch):
    elect(world, branch, date(2023, 5, 8), posts=("secretary", "organization_member", "discipline_member"))
    # empty since 2025-01-01: 90 days on 1 April, more than 90 on 2 April
    assert post_vacant(world, branch, date(2025, 4, 1), START, RULES) == []
    assert kinds(post_vacant(world, branch, date(2025, 4, 2), START, RULES), "post_vacant") == [
        (branch.org_id, "warning", "2025-04-02")]


def test_a_resigned_post_is_vacant_from_the_first_day_past_the_limit(world, branch):
    elect(world, branch, date(2023, 5, 8))
    world.leadership.branches[branch.org_id].removals.append((date(2025, 5, 20), "propaganda_member", "resigned"))
    assert post_vacant(world, branch, date(2025, 8, 18), START, RULES) == []
    assert kinds(post_vacant(world, branch, date(2025, 12, 31), START, RULES), "post_vacant") == [
        (branch.org_id, "warning", "2025-08-19")]


def test_the_secretary_s_post_past_the_limit_makes_it_an_alert_since_the_longest_empty_post(world, branch):
    elect(world, branch, date(2023, 5, 8))
    plan = world.leadership.branches[branch.org_id]
    plan.removals += [(date(2025, 2, 3), "discipline_member", "resigned"), (date(2025, 3, 3), "secretary", "dismissed")]
    # in May only the discipline member's post is past the limit: a warning
    assert kinds(post_vacant(world, branch, date(2025, 5, 10), START, RULES), "post_vacant") == [
        (branch.org_id, "warning", "2025-05-05")]
    assert kinds(post_vacant(world, branch, date(2025, 6, 2), START, RULES), "post_vacant") == [
        (branch.org_id, "alert", "2025-05-05")]


def test_a_holder_who_dies_empties_the_post_that_day(world, branch, monkeypatch):
    elect(world, branch, date(2023, 5, 8))
    holder = line_up(world, branch, START)["organization_member"]
    monkeypatch.setattr(world.member(holder), "died_on", date(2025, 3, 10))
    assert "organization_member" not in line_up(world, branch, date(2025, 3, 10))
    assert kinds(post_vacant(world, branch, date(2025, 12, 31), START, RULES), "post_vacant") == [
        (branch.org_id, "warning", "2025-06-09")]


def test_a_post_emptied_before_the_records_began_is_empty_from_their_start(world, branch):
    elect(world, branch, date(2023, 5, 8))
    world.leadership.branches[branch.org_id].removals.append((date(2024, 6, 1), "propaganda_member", "resigned"))
    assert post_vacant(world, branch, date(2025, 4, 1), START, RULES) == []
    assert kinds(post_vacant(world, branch, date(2025, 4, 2), START, RULES), "post_vacant") == [
        (branch.org_id, "warning", "2025-04-02")]


# ---- term_overdue ---------------------------------------------------------------------------------

def test_no_general_election_recorded_no_known_term(world, branch):
    assert term_overdue(world, branch, date(2025, 12, 31), START, RULES) == []


def test_a_term_is_overdue_from_the_day_after_its_end_and_an_alert_six_months_on(world, branch):
    elect(world, branch, date(2020, 3, 18))  # the term ends on 2025-03-18
    assert term_overdue(world, branch, date(2025, 3, 18), START, RULES) == []
    assert kinds(term_overdue(world, branch, date(2025, 3, 19), START, RULES), "term_overdue") == [
        (branch.org_id, "warning", "2025-03-19")]
    assert term_overdue(world, branch, date(2025, 9, 18), START, RULES)[0]["level"] == "warning"
    assert term_overdue(world, branch, date(2025, 9, 19), START, RULES)[0]["level"] == "alert"


def test_a_term_overdue_before_the_records_began_counts_its_months_from_its_end_but_since_their_start(world, branch):
    elect(world, branch, date(2019, 11, 12))  # overdue from 2024-11-13: an alert from 2025-05-13
    assert kinds(term_overdue(world, branch, date(2025, 5, 12), START, RULES), "term_overdue") == [
        (branch.org_id, "warning", "2025-01-01")]
    assert kinds(term_overdue(world, branch, date(2025, 5, 13), START, RULES), "term_overdue") == [
        (branch.org_id, "alert", "2025-01-01")]


def test_a_general_election_ends_the_overdue_term_and_a_by_election_does_not(world, branch):
    elect(world, branch, date(2019, 11, 12), posts=("secretary", "organization_member", "propaganda_member"))
    elect(world, branch, date(2025, 2, 3), kind="by_election", posts=("discipline_member",))
    assert term_overdue(world, branch, date(2025, 3, 1), START, RULES)
    elect(world, branch, date(2025, 4, 16))
    assert term_overdue(world, branch, date(2025, 12, 31), START, RULES) == []


# ---- secretary_untrained --------------------------------------------------------------------------

def test_an_untrained_secretary_is_flagged_from_october_until_the_new_year(world, branch):
    elect(world, branch, date(2023, 5, 8))
    secretary = line_up(world, branch, START)["secretary"]
    assert secretary_untrained(world, branch, date(2025, 9, 30), START, RULES) == []
    assert kinds(secretary_untrained(world, branch, date(2025, 12, 31), START, RULES), "secretary_untrained") == [
        (secretary, "warning", "2025-10-01")]
    assert secretary_untrained(world, branch, date(2026, 1, 1), START, RULES) == []


def test_a_session_of_the_year_clears_it_and_one_of_the_year_before_does_not(world, branch):
    elect(world, branch, date(2023, 5, 8))
    secretary = line_up(world, branch, START)["secretary"]
    world.leadership.sessions.append(Session("t/1", date(2024, 9, 16), "培训", [secretary]))
    assert secretary_untrained(world, branch, date(2025, 10, 1), START, RULES)
    world.leadership.sessions.append(Session("t/2", date(2025, 10, 20), "培训", [], late=[secretary]))
    assert secretary_untrained(world, branch, date(2025, 10, 19), START, RULES)
    assert secretary_untrained(world, branch, date(2025, 10, 20), START, RULES) == []


def test_a_secretary_new_in_the_year_has_the_grace_days_and_a_re_elected_one_has_not(world, branch):
    first = elect(world, branch, date(2023, 5, 8))
    elect(world, branch, date(2025, 4, 16))  # the same secretary again: no new start
    assert secretary_untrained(world, branch, date(2025, 10, 1), START, RULES)[0]["since"] == "2025-10-01"
    newcomer = next(m for m in staying(world, branch) if m not in {m for m, _, _ in first.elected})
    world.leadership.branches[branch.org_id].appointments.append((date(2025, 8, 4), "secretary", newcomer))
    assert secretary_untrained(world, branch, date(2025, 11, 1), START, RULES) == []
    assert kinds(secretary_untrained(world, branch, date(2025, 11, 2), START, RULES), "secretary_untrained") == [
        (newcomer, "warning", "2025-11-02")]


# ---- funds, probation, requests --------------------------------------------------------------------

def test_the_overdrawn_run_starts_on_its_first_negative_day_and_an_earlier_run_does_not_count():
    money = lambda on, t, amount: (on, t, {"amount": amount})  # noqa: E731
    plan = [money(date(2025, 1, 12), "RecordBranchFunds", "100.00"),
            money(date(2025, 1, 27), "RecordBranchSpending", "150.00"),  # -50: a first run
            money(date(2025, 3, 2), "RecordBranchFunds", "1000.00"),  # 950
            money(date(2025, 10, 28), "RecordBranchSpending", "1200.00"),  # -250
            money(date(2025, 10, 28), "RecordBranchFunds", "100.00"),  # same day: -150 at its end
            money(date(2025, 11, 27), "RecordBranchSpending", "60.00")]
    assert negative_since(plan, date(2025, 2, 1)) == date(2025, 1, 27)
    assert negative_since(plan, date(2025, 3, 2)) is None
    assert negative_since(plan, date(2025, 12, 31)) == date(2025, 10, 28)
    # a day's entries count together, whatever their order
    assert negative_since([money(date(2025, 5, 1), "RecordBranchSpending", "10.00"),
                           money(date(2025, 5, 1), "RecordBranchFunds", "10.00")], date(2025, 5, 1)) is None


def test_a_probation_is_overdue_from_the_day_after_its_anniversary_until_the_decision(world):
    junan = next(b for b in world.branches if b.short == "军安")  # probationary since 2024-04-10, no decision
    swan = next(b for b in world.branches if b.short == "天鹅湖")  # probationary 2024-05-20, full member 2025-05-26
    subject = {b.org_id: world.ids.of("ap", f"{b.org_id}/probationary") for b in (junan, swan)}
    assert [a["subject_id"] for a in probation_overdue(world, date(2025, 4, 10), START)] == []
    assert kinds(probation_overdue(world, date(2025, 5, 21), START), "probation_overdue") == sorted([
        (subject[junan.org_id], "warning", "2025-04-11"), (subject[swan.org_id], "warning", "2025-05-21")])
    assert kinds(probation_overdue(world, date(2025, 12, 31), START), "probation_overdue") == [
        (subject[junan.org_id], "warning", "2025-04-11")]


def test_a_request_is_overdue_after_its_due_date_and_an_alert_more_than_30_days_past_it():
    requests = Requests()
    requests.opened = {
        "rq-1": {"opened_on": date(2025, 3, 1), "due_on": date(2025, 3, 15), "resolved_on": None},
        "rq-2": {"opened_on": date(2025, 3, 1), "due_on": date(2025, 3, 15), "resolved_on": date(2025, 4, 2)},
        "rq-3": {"opened_on": date(2024, 12, 1), "due_on": date(2024, 12, 15), "resolved_on": None}}
    assert [a["subject_id"] for a in request_overdue(requests, date(2025, 3, 15), START)] == ["rq-3"]
    assert kinds(request_overdue(requests, date(2025, 4, 1), START), "request_overdue") == [
        ("rq-1", "warning", "2025-03-16"), ("rq-2", "warning", "2025-03-16"), ("rq-3", "alert", "2025-01-01")]
    # resolved on 2 April; 30 days past the due date on 14 April, more than 30 on the 15th
    assert kinds(request_overdue(requests, date(2025, 4, 14), START), "request_overdue") == [
        ("rq-1", "warning", "2025-03-16"), ("rq-3", "alert", "2025-01-01")]
    assert kinds(request_overdue(requests, date(2025, 4, 15), START), "request_overdue") == [
        ("rq-1", "alert", "2025-03-16"), ("rq-3", "alert", "2025-01-01")]
    assert request_overdue(requests, date(2024, 11, 30), START) == []  # before any was opened


# ---- the demo's stories --------------------------------------------------------------------------

def test_the_simulated_year_ends_with_the_demo_s_leadership_and_records_alerts():
    w = build(11, 120, 2025)
    end = date(2025, 12, 31)
    name = {b.org_id: b.short for b in w.branches}
    got = {(a["kind"], name.get(a["subject_id"], a["subject_id"]), a["level"], a["since"])
           for a in leadership_alerts(w, end, START) + records_alerts(w, Requests(), end, START)}
    untrained = next(b for b in w.branches if b.short == "怡园").secretary_id
    overdue = w.ids.of("ap", f"{next(b for b in w.branches if b.short == '军安').org_id}/probationary")
    assert got == {("term_overdue", "军安", "alert", "2025-01-01"),
                   ("post_vacant", "世纪花园", "warning", "2025-08-19"),
                   ("post_vacant", "欧美亚", "alert", "2025-04-02"),
                   ("secretary_untrained", untrained, "warning", "2025-10-01"),
                   ("funds_overdrawn", "北岸明珠", "warning", "2025-10-28"),
                   ("probation_overdue", overdue, "warning", "2025-04-11")}
