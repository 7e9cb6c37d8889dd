"""Notices (contract): `sent` counts (notice, member) pairs addressed within the period by notices
that require acknowledgement; `acknowledged` those acknowledged, whenever the acknowledgement
arrives and whether or not a dispatch was recorded first; automatic notices are not counted."""
import pytest

from services.reporting.domain.contributions import member_contribution
from services.reporting.domain.facts import MemberFacts
from services.reporting.domain.report import build, subtree_required
from shared.periods import parse_period
from tests.unit.reporting.sums import subtree_sums

pytestmark = pytest.mark.unit


def notices(members, period="2026-03", day="2026-03-31"):
    p = parse_period(period)
    contributions = [member_contribution(m, records_start=None) for m in members]
    return build(subtree_sums(contributions, {"b": {}}, p, day), subtree_required([{}], p), p, day,
                 records_start=None)["notices"]


def member(mid, **notices_):
    return MemberFacts(mid, branch_id="b", registered_on="2026-01-05", notices=notices_)


def test_an_acknowledgement_without_a_recorded_dispatch_counts():
    m = [member("m1", doc={"acked_on": "2026-03-06"}),  # acknowledged, no dispatch recorded (yet)
         member("m2", doc={"addressed_on": "2026-03-05", "acked_on": "2026-03-04"}),  # ack first
         member("m3", doc={"addressed_on": "2026-03-05"})]
    assert notices(m) == {"sent": 3, "acknowledged": 2, "ack_rate": 0.6667}


def test_an_acknowledgement_after_the_period_counts_for_it():
    m = [member("m1", doc={"addressed_on": "2026-03-28", "acked_on": "2026-04-02"})]
    assert notices(m) == {"sent": 1, "acknowledged": 1, "ack_rate": 1.0}
    assert notices(m, "2026-04", "2026-04-30")["sent"] == 0


def test_automatic_notices_and_notices_without_acknowledgement_are_not_counted():
    m = [member("m1", **{"activity:a1": {"addressed_on": "2026-03-02"},
                         "reminder:dues_arrears:m1:2026-01:warning:3:member": {"addressed_on": "2026-03-03"},
                         "greeting": {"addressed_on": "2026-03-05", "require_ack": False},
                         "doc": {"addressed_on": "2026-03-05", "require_ack": True, "acked_on": "2026-03-07"}})]
    assert notices(m) == {"sent": 1, "acknowledged": 1, "ack_rate": 1.0}
