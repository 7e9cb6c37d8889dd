"""The frequency rule set of organisational life (shared/rules/org_life.py)."""
import pytest

from shared.periods import parse_period
from shared.rules.org_life import DEFAULT_RULES, Requirement, compliance, load_rules, required, units

pytestmark = pytest.mark.unit
P = parse_period


@pytest.mark.parametrize("period,committee,groups,expected", [
    ("2026-05", False, 0, {"branch_assembly": 0, "committee_meeting": 0, "group_meeting": 0, "party_lecture": 0,
                           "themed_party_day": 1, "org_life_meeting": 0, "democratic_evaluation": 0}),
    ("2026-05", True, 3, {"branch_assembly": 0, "committee_meeting": 1, "group_meeting": 3, "party_lecture": 0,
                          "themed_party_day": 1, "org_life_meeting": 0, "democratic_evaluation": 0}),
    ("2026-Q2", False, 2, {"branch_assembly": 1, "committee_meeting": 0, "group_meeting": 6, "party_lecture": 1,
                           "themed_party_day": 3, "org_life_meeting": 0, "democratic_evaluation": 0}),
    ("2026", True, 0, {"branch_assembly": 4, "committee_meeting": 12, "group_meeting": 0, "party_lecture": 4,
                       "themed_party_day": 12, "org_life_meeting": 1, "democratic_evaluation": 1}),
])
def test_default_frequencies(period, committee, groups, expected):
    assert required(P(period), has_committee=committee, party_groups=groups) == expected


def test_units_of_a_period():
    assert [u.label for u in units("month", P("2026-Q1"))] == ["2026-01", "2026-02", "2026-03"]
    assert [u.label for u in units("quarter", P("2026"))] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert [(u.label, u.start.isoformat(), u.end.isoformat()) for u in units("half_year", P("2026"))] == [
        ("2026-H1", "2026-01-01", "2026-06-30"), ("2026-H2", "2026-07-01", "2026-12-31")]
    assert units("quarter", P("2026-05")) == [] and units("year", P("2026-Q3")) == []
    assert units("month", P("2024-02"))[0].end.isoformat() == "2024-02-29"


def test_a_district_configures_its_own_frequencies():
    rules = load_rules('[{"kind": "group_meeting", "per": "month", "times": 2, "applies": "party_groups"},'
                       ' {"kind": "org_life_meeting", "per": "half_year"}]')
    def nonzero(need):  # kinds the district's rules leave out are listed, requiring nothing
        assert set(need) >= {"branch_assembly", "committee_meeting"}
        return {k: n for k, n in need.items() if n}

    assert nonzero(required(P("2026-Q1"), has_committee=True, party_groups=1, rules=rules)) == {"group_meeting": 6}
    assert nonzero(required(P("2026"), has_committee=True, party_groups=0, rules=rules)) == {"org_life_meeting": 2}
    assert load_rules(None) == load_rules("") == DEFAULT_RULES


@pytest.mark.parametrize("text,fault", [
    ("not json", "not JSON"), ("[]", "non-empty"), ('{"kind": "party_lecture"}', "non-empty"),
    ('[{"kind": "dance", "per": "month"}]', "unknown kind"), ('[{"kind": "party_lecture", "per": "week"}]', "per"),
    ('[{"kind": "party_lecture", "per": "month", "times": 0}]', "times"),
    ('[{"kind": "party_lecture", "per": "month", "applies": "nobody"}]', "applies"),
    ('[{"kind": "party_lecture"}]', "[0]"), ('[3]', "[0]"),
])
def test_a_bad_setting_is_refused_with_the_rule_at_fault(text, fault):
    with pytest.raises(ValueError) as e:
        load_rules(text)
    assert fault in str(e.value)


def test_compliance_caps_each_kind_at_its_requirement():
    assert compliance({"a": 2, "b": 2}, {"a": 5, "b": 1}) == 0.75
    assert compliance({"a": 0}, {"a": 3}) == 1.0


def test_requirement_applies_by_branch_shape():
    r = Requirement("committee_meeting", "month", applies="committee")
    assert r.applies_to(has_committee=True, party_groups=0) and not r.applies_to(has_committee=False, party_groups=5)
