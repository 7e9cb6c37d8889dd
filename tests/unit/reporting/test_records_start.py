"""Where the records begin (contract, RECORDS_START) and the opening balance (`dues_paid_through`):
no month before RECORDS_START is due, counted in a run or in `months`; no alert's `since` is
earlier; months up to a member's `dues_paid_through` are paid."""
import pytest

from services.reporting.domain.alerts import BranchState, branch_alerts, member_alerts
from services.reporting.domain.contributions import member_contribution
from services.reporting.domain.facts import MemberFacts
from services.reporting.domain.report import build, months_elapsed, subtree_required
from shared.periods import parse_period
from tests.unit.reporting.sums import subtree_sums

pytestmark = pytest.mark.unit
RS = "2025-01-01"


def old_member(**kw) -> MemberFacts:
    # registered in 2015, nothing recorded before the records began
    return MemberFacts("m", name="董巧云", branch_id="b", registered_on="2015-03-10", **kw)


def kinds(alerts):
    return {a.kind: a for a in alerts}


def dues(members, period, day, records_start):
    p = parse_period(period)
    contributions = [member_contribution(m, records_start=records_start) for m in members]
    r = build(subtree_sums(contributions, {"b": {}}, p, day), subtree_required([{}], p), p, day,
              records_start=records_start)
    return r["dues"]


def test_no_month_before_records_start_counts_in_a_run():
    m = old_member(visits={"v": "2025-03-01"})
    a = kinds(member_alerts(m, "2025-03-15", records_start=RS))
    assert (a["dues_arrears"].since, a["dues_arrears"].months) == ("2025-01", 3)
    assert (a["no_participation"].since, a["no_participation"].months) == ("2025-01", 3)
    # unset: nothing is excluded (the run reaches back to the registration)
    assert kinds(member_alerts(m, "2025-03-15", records_start=None))["dues_arrears"].since == "2015-03"


def test_no_alert_since_is_earlier_than_records_start():
    m = old_member(away=[{"from": "2024-03-01", "until": None, "location": "三亚"}])
    for a in member_alerts(m, "2025-09-30", records_start=RS):
        assert a.since >= RS[:len(a.since)], a
    # not visited: the clock starts when the records begin, not at the 2015 registration
    assert "not_visited" not in kinds(member_alerts(m, "2025-02-15", records_start=RS))
    assert kinds(member_alerts(m, "2025-03-15", records_start=RS))["not_visited"].since == "2025-03-03"
    b = BranchState("b", "2009-01-06", registered=2, small_since="2013-01-14")
    alerts = kinds(branch_alerts(b, "2025-01-20", records_start=RS))
    assert alerts["branch_too_small"].since == RS and alerts["no_secretary"].since == RS
    # in January, the quarter before the records began (2024-Q4) is not judged
    assert "missed_meetings" not in alerts
    assert "missed_meetings" in kinds(branch_alerts(b, "2025-04-02", records_start=RS))


def test_no_month_before_records_start_is_due():
    assert months_elapsed(parse_period("2024"), "2024-12-31", RS) == 0
    assert months_elapsed(parse_period("2025-Q1"), "2025-03-31", "2025-02-10") == 2
    m = old_member(payments={"p": {"months": ["2024-11", "2024-12", "2025-01"], "cents": 7200,
                                   "paid_on": "2024-11-05"}})
    assert dues([m], "2024", "2024-12-31", RS)["member_months_due"] == 0
    assert dues([m], "2024", "2024-12-31", RS)["member_months_paid"] == 0
    d = dues([m], "2025-Q1", "2025-03-31", RS)
    assert (d["member_months_due"], d["member_months_paid"]) == (3, 1)
    # records beginning mid-quarter, a member registered after that in the same quarter
    new = MemberFacts("n", branch_id="b", registered_on="2025-03-02")
    d = dues([m, new], "2025-Q1", "2025-03-31", "2025-02-01")
    assert d["member_months_due"] == 2 + 1


def test_the_opening_balance_counts_as_paid():
    m = old_member(dues_paid_through="2025-02")
    d = dues([m], "2025-Q1", "2025-03-31", RS)
    assert (d["member_months_due"], d["member_months_paid"], d["rate"]) == (3, 2, 0.6667)
    assert d["amount_paid"] == "0.00"  # an opening balance is no payment within the period
    # the arrears run starts after the opening balance
    a = kinds(member_alerts(m, "2025-05-31", records_start=RS))["dues_arrears"]
    assert (a.since, a.months) == ("2025-03", 3)
    # an opening balance reaching past the records' start, and none before registration
    assert sorted(old_member(dues_paid_through="2024-12").month_paid_on(RS)) == []
    assert min(MemberFacts("x", registered_on="2025-02-03", dues_paid_through="2025-03").month_paid_on()) == "2025-02"
