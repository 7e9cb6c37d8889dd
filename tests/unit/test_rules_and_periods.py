import pytest

from services.members.domain.dues import monthly_dues
from shared.periods import parse_period
from shared.rules.org_life import compliance, load_rules, required

pytestmark = pytest.mark.unit


def test_periods():
    q = parse_period("2026-Q1")
    assert (q.start.isoformat(), q.end.isoformat(), q.months) == ("2026-01-01", "2026-03-31", ["2026-01", "2026-02", "2026-03"])
    assert parse_period("2024-02").end.isoformat() == "2024-02-29"
    assert len(parse_period("2026").months) == 12
    for bad in ("2026-Q5", "2026-13", "26", "2026-1"):
        with pytest.raises(ValueError):
            parse_period(bad)


def test_required_meetings_follow_the_contract_example():
    # contract example: a branch with a committee, no party groups, one quarter
    r = required(parse_period("2026-Q1"), has_committee=True, party_groups=0)
    assert r == {"branch_assembly": 1, "committee_meeting": 3, "group_meeting": 0, "party_lecture": 1,
                 "themed_party_day": 3, "org_life_meeting": 0, "democratic_evaluation": 0}
    held = {"branch_assembly": 1, "committee_meeting": 2, "party_lecture": 1, "themed_party_day": 3}
    assert compliance(r, held) == 7 / 8 == 0.875


def test_month_and_year_and_configured_rules():
    assert required(parse_period("2026-05"), has_committee=False, party_groups=2)["group_meeting"] == 2  # per group
    assert required(parse_period("2026-05"), has_committee=False, party_groups=0)["branch_assembly"] == 0
    year = required(parse_period("2026"), has_committee=False, party_groups=0)
    assert year["branch_assembly"] == 4 and year["org_life_meeting"] == 1 and year["committee_meeting"] == 0
    rules = load_rules('[{"kind": "group_meeting", "per": "month", "times": 2, "applies": "party_groups"},'
                       ' {"kind": "org_life_meeting", "per": "half_year"}]')
    assert {k: n for k, n in required(parse_period("2026"), has_committee=False, party_groups=1,
                                      rules=rules).items() if n} == {"group_meeting": 24, "org_life_meeting": 2}
    assert compliance({}, {}) == 1.0


@pytest.mark.parametrize("pension,dues", [("4800.00", "24.00"), ("5000.00", "25.00"), ("5000.01", "50.00"),
                                          ("3333.33", "16.67"), ("1234.50", "6.17"), ("0.00", "0.00")])
def test_monthly_dues(pension, dues):
    from decimal import Decimal
    assert monthly_dues(Decimal(pension)) == Decimal(dues)
