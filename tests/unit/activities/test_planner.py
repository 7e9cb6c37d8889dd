"""The planner: required, scheduled, held and missing, for months, quarters and years."""
import pytest

from services.activities.domain.plan import Planned, plan
from shared.periods import parse_period
from shared.rules.org_life import DEFAULT_RULES, load_rules

pytestmark = pytest.mark.unit


def _a(kind, day, status="held", aid=None):
    return Planned(aid or f"{kind}-{day}-{status}", kind, "标题", day, status)


def _rows(result):
    return {r["kind"]: r for r in result["kinds"]}


def test_quarter_for_a_branch_with_committee_and_groups():
    acts = [_a("branch_assembly", "2026-02-10"), _a("committee_meeting", "2026-01-05"),
            _a("committee_meeting", "2026-01-20"), _a("committee_meeting", "2026-03-02", "scheduled"),
            _a("group_meeting", "2026-01-09", "cancelled"), _a("themed_party_day", "2026-01-01"),
            _a("themed_party_day", "2026-02-01"), _a("themed_party_day", "2026-03-01"),
            _a("study", "2026-01-15"), _a("party_lecture", "2026-04-01")]  # April: outside Q1
    r = plan(parse_period("2026-Q1"), has_committee=True, party_groups=2, rules=DEFAULT_RULES, activities=acts)
    rows = _rows(r)
    cm = rows["committee_meeting"]
    # two in January count towards the quarter's total (as reporting counts) but February is still missing
    assert (cm["required"], cm["held"], cm["scheduled"], cm["missing"], cm["to_schedule"]) == (3, 2, 1, 2, 1)
    assert [(u["unit"], u["missing"], u["to_schedule"]) for u in cm["units"]] == [
        ("2026-01", 0, 0), ("2026-02", 1, 1), ("2026-03", 1, 0)]
    assert cm["status"] == "missing" and cm["label"] == "支部委员会会议"
    gm = rows["group_meeting"]
    assert (gm["required"], gm["held"], gm["missing"], gm["status"]) == (6, 0, 6, "missing")  # two groups
    assert [a["status"] for a in gm["activities"]] == ["cancelled"]
    assert rows["branch_assembly"]["status"] == "done" and rows["themed_party_day"]["status"] == "done"
    lecture = rows["party_lecture"]
    assert (lecture["required"], lecture["held"], lecture["missing"], lecture["activities"]) == (1, 0, 1, [])
    assert rows["org_life_meeting"]["status"] == "not_required"
    assert "study" not in rows  # only organisational life is planned
    # compliance as reporting computes it: Σ min(held, required) ÷ Σ required
    assert r["totals"]["required"] == 14 and r["totals"]["held"] == 1 + 2 + 0 + 0 + 3
    assert r["compliance"] == round(6 / 14, 4)


def test_month_for_a_branch_without_committee_or_groups():
    r = plan(parse_period("2026-05"), has_committee=False, party_groups=0, rules=DEFAULT_RULES,
             activities=[_a("themed_party_day", "2026-05-20", "scheduled")])
    rows = _rows(r)
    assert {k: v["required"] for k, v in rows.items()} == {
        "branch_assembly": 0, "committee_meeting": 0, "group_meeting": 0, "party_lecture": 0,
        "themed_party_day": 1, "org_life_meeting": 0, "democratic_evaluation": 0}
    assert rows["themed_party_day"]["status"] == "scheduled" and rows["themed_party_day"]["status_label"] == "已安排待举行"
    assert rows["committee_meeting"]["rules"][0]["applies_here"] is False
    assert r["totals"] == {"required": 1, "held": 0, "missing": 1, "to_schedule": 0}


def test_year_counts_quarters_and_yearly_kinds():
    acts = [_a("branch_assembly", d) for d in ("2026-01-10", "2026-02-10", "2026-07-10", "2026-10-10")]
    acts += [_a("org_life_meeting", "2026-12-20"), _a("democratic_evaluation", "2026-12-21", "scheduled")]
    rows = _rows(plan(parse_period("2026"), has_committee=False, party_groups=0, rules=DEFAULT_RULES,
                      activities=acts))
    ba = rows["branch_assembly"]
    assert (ba["required"], ba["held"], ba["missing"]) == (4, 4, 1)  # Q2 had none: two in Q1 do not make up for it
    assert [u["unit"] for u in ba["units"] if u["missing"]] == ["2026-Q2"]
    assert rows["org_life_meeting"]["status"] == "done"
    assert rows["democratic_evaluation"]["status"] == "scheduled"
    assert rows["themed_party_day"]["required"] == 12 and rows["themed_party_day"]["missing"] == 12


def test_configured_rules_drive_the_plan():
    rules = load_rules('[{"kind": "group_meeting", "per": "month", "times": 2, "applies": "party_groups"},'
                       ' {"kind": "org_life_meeting", "per": "half_year"}]')
    r = plan(parse_period("2026-Q1"), has_committee=False, party_groups=1, rules=rules,
             activities=[_a("group_meeting", "2026-01-03"), _a("group_meeting", "2026-01-17")])
    gm = _rows(r)["group_meeting"]
    assert (gm["required"], gm["missing"], gm["rules"][0]["text"]) == (6, 4, "每个党小组每月2次")
    assert _rows(r)["branch_assembly"]["required"] == 0  # not in this district's rules


def test_group_meetings_are_required_per_party_group():
    """As reporting counts them (contract: `required` for group_meeting is per party group)."""
    acts = [_a("group_meeting", "2026-03-03"), _a("group_meeting", "2026-03-10"),
            _a("group_meeting", "2026-03-24", "scheduled")]
    r = plan(parse_period("2026-03"), has_committee=False, party_groups=3, rules=DEFAULT_RULES, activities=acts)
    gm = _rows(r)["group_meeting"]
    assert (gm["required"], gm["held"], gm["missing"], gm["to_schedule"], gm["status"]) == (3, 2, 1, 0, "scheduled")
    assert [(u["required"], u["missing"]) for u in gm["units"]] == [(3, 1)]
    assert r["compliance"] == round((2 + 0) / (3 + 1), 4)  # group meetings and the themed party day
