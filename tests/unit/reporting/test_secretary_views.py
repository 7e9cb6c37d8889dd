"""What a secretary reads: alerts the worst first, `since` in one format per kind, a member's
dues standing, and volunteer hours by team."""
import pytest

from services.reporting.domain import alert_list
from services.reporting.domain.alerts import BranchState, branch_alerts, member_alerts
from services.reporting.domain.facts import MemberFacts
from services.reporting.domain.standing import dues_standing, status
from services.reporting.domain.contributions import member_contribution
from services.reporting.domain.volunteer import NO_TEAM, as_hours, by_team

pytestmark = pytest.mark.unit


def member(member_id="m", **kw) -> MemberFacts:
    return MemberFacts(member_id, **{"name": "李建国", "branch_id": "b", "registered_on": "2025-01-05", **kw})


def test_since_has_one_format_per_kind_and_is_said_in_words():
    frail = member(lives_alone=True, away=[{"from": "2025-01-10", "until": None, "location": "海南三亚"}])
    found = member_alerts(frail, "2025-09-30", records_start="2025-01-01")
    found += branch_alerts(BranchState("b", "2024-06-01", registered=2), "2025-09-30", records_start="2025-01-01")
    assert {a.kind for a in found} == {"dues_arrears", "no_participation", "not_visited", "transfer_suggested",
                                       "branch_too_small", "no_secretary", "missed_meetings"}
    labels = {a.kind: alert_list.since_label(a.kind, a.since) for a in found}
    assert labels["dues_arrears"] == "2025年1月起" and labels["missed_meetings"] == "2025年第3季度"
    assert labels["no_secretary"] == "2025年1月1日起" and labels["transfer_suggested"] == "2025年1月10日起"
    with pytest.raises(ValueError):  # a day where a month belongs is a bug, not a format to show
        alert_list.since_label("dues_arrears", "2025-01-06")


def alert(alert_id, level, months=None, since="2025-01", kind="dues_arrears", org_id="b1") -> dict:
    return {"alert_id": alert_id, "kind": kind, "level": level, "months": months, "since": since, "org_id": org_id,
            "org_name": org_id, "subject_name": alert_id}


def test_alerts_are_listed_by_level_then_months():
    listed = [alert("info", "info", since="2025-01-10", kind="transfer_suggested"), alert("w3", "warning", 3),
              alert("a6", "alert", 6), alert("w5", "warning", 5), alert("a9", "alert", 9),
              alert("visit-late", "warning", since="2025-06-01", kind="not_visited"),
              alert("visit-later", "warning", since="2025-03-01", kind="not_visited")]
    assert [a["alert_id"] for a in alert_list.ordered(listed)] == [
        "a9", "a6", "w5", "w3", "visit-later", "visit-late", "info"]


def test_alerts_are_filtered_by_kind_and_branch():
    listed = [alert("x", "warning", 3), alert("y", "warning", kind="no_secretary", since="2025-01-01"),
              alert("z", "warning", 3, org_id="b2")]
    assert [a["alert_id"] for a in alert_list.matching(listed, kind="dues_arrears")] == ["x", "z"]
    assert [a["alert_id"] for a in alert_list.matching(listed, branch_id="b2")] == ["z"]
    assert [a["alert_id"] for a in alert_list.matching(listed, "dues_arrears", "b1")] == ["x"]


def test_dues_standing_says_paid_through_and_months_unpaid():
    paid = {"p": {"months": ["2025-01", "2025-02", "2025-04"], "cents": 7200, "paid_on": "2025-01-10"}}
    m = member(payments=paid)
    assert dues_standing(m, "2025-06-15", "2025-01-01") == {"paid_through": "2025-02", "unpaid": 3,
                                                            "unpaid_since": "2025-03"}
    opening = member(registered_on="2010-03-01", dues_paid_through="2025-03")  # paid before the records began
    assert dues_standing(opening, "2025-03-31", "2025-01-01") == {"paid_through": "2025-03", "unpaid": 0,
                                                                  "unpaid_since": None}
    later = member(payments={"p": {"months": ["2025-01"], "cents": 2400, "paid_on": "2025-07-01"}})
    assert dues_standing(later, "2025-02-28", None)["unpaid"] == 2  # a payment made after the day: not yet


def test_status_of_the_day():
    m = member(exempt=[{"from": "2025-03-01", "until": None}], died_on="2025-09-01")
    assert [status(m, day) for day in ("2025-01-01", "2025-02-01", "2025-04-01", "2025-09-01")] == [
        "unregistered", "resident", "exempt", "deceased"]


def test_volunteer_hours_by_team_count_for_the_branch_of_the_day():
    """By team, from the figures the members' contributions add to each branch (`hours@<team>`
    beside `hours`), as an organisation's figures sum its branches' up to the reading day."""
    a = member("a", hours={"h1": {"on": "2025-03-01", "hundredths": 250, "team": "义务血压站"},
                           "h2": {"on": "2025-04-01", "hundredths": 1000, "team": "爱心义剪"},
                           "h3": {"on": "2026-01-02", "hundredths": 100, "team": "爱心义剪"}},
               transfers=[{"on": "2025-03-15", "from_branch_id": "b", "to_branch_id": "elsewhere"}])
    b = member("b", hours={"h4": {"on": "2025-05-01", "hundredths": 750, "team": "义务血压站"},
                           "h5": {"on": "2025-05-02", "hundredths": 50},
                           "h6": {"on": "2025-06-01", "hundredths": 25, "team": "a.b $c 🙂"}})

    def counters(branches: set[str], period: str, day: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for m in (a, b):
            for (series, branch, when), fields in member_contribution(m, records_start=None).items():
                if series == period and branch in branches and when <= day:
                    for name, n in fields.items():
                        out[name] = out.get(name, 0) + n
        return out
    year = counters({"b"}, "2025", "2025-12-31")
    assert as_hours(by_team(year)) == {
        "a.b $c 🙂": "0.25", "义务血压站": "10", NO_TEAM: "0.5"}  # a's April hours were for the branch a moved to
    assert sum(by_team(year).values()) == year["hours"]  # the report's volunteer hours, split
    assert all("." not in name and not name.startswith("$") for name in year)  # field names
    assert as_hours(by_team(counters({"b", "elsewhere"}, "2025-Q2", "2025-04-30"))) == {"爱心义剪": "10"}
