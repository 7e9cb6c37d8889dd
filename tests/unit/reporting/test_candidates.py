"""Annual selection: ranking with evidence."""
import random

import pytest

from services.reporting.domain.candidates import TOP, merge_rankings, rank_branches, rank_members
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
    assert "best_activist" not in out  # drawn from the activists on the way in (domain/activists.py), not members
    assert out["best_volunteer"][0] == {"rank": 1, "member_id": "m2", "name": "m2", "branch_id": "b",
                                        "branch_name": "一支部", "score": 120.0, "evidence": {"volunteer_hours": 120.0}}
    assert out["best_secretary"][0]["member_id"] == "m1" and out["best_secretary"][0]["score"] == 88.0


def test_a_subtree_ranked_a_part_at_a_time_ranks_as_it_does_at_once():
    """A district's members are read a part at a time (queries.candidates): the parts' rankings
    merged are the ranking of the whole, ties (same score) by member id included."""
    rng = random.Random(5)
    members = []
    for i in range(300):
        f = MemberFacts(f"m{i:03d}", name=f"m{i}", branch_id=f"b{i % 7}", registered_on="2025-01-01")
        f.attendance = {f"a{k}": {"held_on": f"2026-{k:02d}-05", "kind": "themed_party_day", "status": "present"}
                        for k in range(1, rng.randint(0, 12) + 1)}
        f.hours = {"h": {"on": "2026-05-01", "hundredths": rng.choice((0, 100, 250, 250, 1000))}}
        members.append(f)
    rng.shuffle(members)
    args = (2026, "2026-12-31", {f"b{k}": f"{k}支部" for k in range(7)}, {f"m{k:03d}": f"b{k}" for k in range(7)},
            {f"b{k}": report(f"b{k}", 60.0 + k % 3) for k in range(7)})
    whole = rank_members(members, *args)
    parts = merge_rankings([rank_members(members[i:i + 40], *args) for i in range(0, len(members), 40)])
    assert parts == whole and len(whole["best_old_member"]) == TOP


def test_the_best_activist_candidates_are_activists_on_the_way_in():
    from services.reporting.domain.activists import rank_activists

    def doc(_id, *stages, branch="b"):
        return {"_id": _id, "branch_id": branch, "name": _id, "contacts": [{"member_id": "c1", "member_name": "刘振华"}],
                "history": {str(i + 1): {"stage": s, "on": on, "seq": i + 1} for i, (s, on) in enumerate(stages)}}
    docs = [doc("target", ("applicant", "2023-01-05"), ("activist", "2023-03-01"), ("development_target", "2024-05-01")),
            doc("young", ("applicant", "2025-09-01"), ("activist", "2026-02-01")),
            doc("applied", ("applicant", "2026-01-10")),  # not (yet) an activist: no candidate
            doc("left", ("applicant", "2023-01-05"), ("activist", "2023-03-01"), ("withdrawn", "2025-06-01")),
            doc("elsewhere", ("applicant", "2025-01-05"), ("activist", "2025-03-01"), branch="other")]
    out = rank_activists(docs, 2026, "2026-12-31", {"b": "一支部"})
    assert [r["applicant_id"] for r in out] == ["target", "young"]
    assert out[0]["evidence"] == {"stage": "development_target", "activist_since": "2023-03-01", "contacts": ["刘振华"]}
