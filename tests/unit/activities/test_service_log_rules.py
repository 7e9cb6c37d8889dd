"""Volunteer hours and visits."""
from decimal import Decimal

import pytest

from services.activities.domain import service_log as s
from shared.errors import Rejected

pytestmark = pytest.mark.unit


def _log(hours, existing=None, status=None):
    return s.log_hours(existing, entry_id="e1", member_id="m1", team=" 义务血压站 ", hours=Decimal(hours),
                       on="2026-03-05", activity_id="a1" if status else None, activity_status=status)


@pytest.mark.parametrize("hours", ["0.5", "24", "3.25"])
def test_hours_accepted(hours):
    e = _log(hours)
    assert (e.hours, e.team) == (hours, "义务血压站")


@pytest.mark.parametrize("hours", ["0", "24.01", "100"])
def test_hours_must_be_positive_and_at_most_24(hours):
    with pytest.raises(Rejected) as e:
        _log(hours)
    assert (e.value.reason, e.value.errors[0]["field"]) == ("invalid", "data.hours")


def test_hours_refused_twice_and_for_a_cancelled_activity():
    with pytest.raises(Rejected) as e:
        _log("2", existing=_log("2"))
    assert (e.value.reason, e.value.errors[0]["field"]) == ("duplicate", "data.entry_id")
    with pytest.raises(Rejected) as e:
        _log("2", status="cancelled")
    assert (e.value.reason, e.value.errors[0]["field"]) == ("not_allowed", "data.activity_id")
    assert _log("2", status="held").activity_id == "a1"


def test_visit_keeps_health_and_needs():
    v = s.record_visit(None, visit_id="v1", member_id="m1", specialist_id="sp1", on="2026-03-05", kind="home",
                       health="poor", needs=["送药", " 送药", "", "理发"], notes="独居，腿脚不便")
    assert (v.health, v.needs, v.notes) == ("poor", ["送药", "理发"], "独居，腿脚不便")
    with pytest.raises(Rejected) as e:
        s.record_visit(v, visit_id="v1", member_id="m1", specialist_id="sp1", on="2026-03-05", kind="home",
                       health=None, needs=[], notes="")
    assert (e.value.reason, e.value.errors[0]["field"]) == ("duplicate", "data.visit_id")


def test_branch_projection_keeps_a_merge_heard_before_the_establishment():
    from services.activities.domain import branches
    b = branches.merge(None, branch_id="b1", into="b2", on="2026-06-30")
    assert not b.established
    b = branches.establish(b, branch_id="b1", name="怡园", parent_id="c1", ancestors=["d", "c1", "b1"],
                           has_committee=True, party_groups=2)
    assert (b.established, b.merged_into, b.has_committee, b.party_groups) == (True, "b2", True, 2)
