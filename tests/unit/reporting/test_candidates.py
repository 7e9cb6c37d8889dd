"""Annual selection: ranking with evidence."""
import pytest

from services.reporting.domain.candidates import rank_branches, rank_members
from services.reporting.domain.facts import MemberFacts

pytestmark = pytest.mark.unit


def report(org_id, score):
    return {"org_id": org_id, "name": org_id, "score": score, "organisational_life": {"compliance": 1.0},
            "participation": {"rate": 1.0}, "dues": {"rate": 1.0}, "visits": {"members_visited": 1},
            "notices": {"ack_rate": 1.0}, "volunteer_hours": "0"}


def test_branches_ranked_by_score():
    ranked = rank_branches([report("b1", 70.0), report("b2", 91.5)])
    assert [(r["rank"], r["branch_id"]) for r in ranked] == [(1, "b2"), (2, "b1")]
    assert ranked[0]["evidence"]["compliance"] == 1.0


def test_members_ranked_per_category():
    def m(mid, months, hours=0, evaluation=None):
        f = MemberFacts(mid, name=mid, branch_id="b", registered_on="2025-01-01")
        f.attendance = {f"a{i}": {"held_on": f"2026-{i:02d}-05", "kind": "themed_party_day", "status": "present"}
                        for i in range(1, months + 1)}
        f.hours = {"h": {"on": "2026-05-01", "hundredths": hours}}
        if evaluation:
            f.evaluations = {"2026": evaluation}
        return f
    out = rank_members([m("m1", 10, 500), m("m2", 9, 12000, "excellent"), m("m3", 0)], 2026, "2026-12-31",
                       {"b": "一支部"}, {"m1": "b"}, {"b": report("b", 88.0)})
    # m2: 9 months + 3 for an excellent evaluation beats m1's 10 months
    assert [r["member_id"] for r in out["best_old_member"]] == ["m2", "m1"]
    assert [r["member_id"] for r in out["best_activist"]] == ["m1", "m2"]
    assert out["best_volunteer"][0] == {"rank": 1, "member_id": "m2", "name": "m2", "branch_id": "b",
                                        "branch_name": "一支部", "score": 120.0, "evidence": {"volunteer_hours": 120.0}}
    assert out["best_secretary"][0]["member_id"] == "m1" and out["best_secretary"][0]["score"] == 88.0
