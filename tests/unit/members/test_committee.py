"""The branch committee and its elections, as pure rules (services/members/domain/committee.py)."""
import pytest

from services.members.domain import committee as cm
from services.members.domain.organization import Organization
from shared.errors import Rejected

pytestmark = pytest.mark.unit


def branch(has_committee: bool = True, **kw) -> Organization:
    return Organization(org_id="b", name="天鹅湖社区退休党支部", kind="branch", parent_id="c",
                        has_committee=has_committee, member_ids=["m1", "m2", "m3", "m4", "m5", "m6", "m7"], **kw)


def refusal(fn, *args, **kw) -> tuple[str, list[str]]:
    with pytest.raises(Rejected) as r:
        fn(*args, **kw)
    return r.value.reason, [e["field"] for e in r.value.errors]


def elect(b, *lines, held_on="2021-03-15", kind="general", eligible=10, present=9, election_id="e1", years=5):
    return cm.record_election(b, election_id=election_id, held_on=held_on, kind=kind, eligible=eligible,
                              present=present, term_years=years,
                              elected=[cm.Candidate(m, p, v, "2020-01-01") for m, p, v in lines])


FULL = [("m1", "secretary", 8), ("m2", "organization_member", 8), ("m3", "propaganda_member", 7),
        ("m4", "discipline_member", 7)]


def holders(b, day=None) -> dict[str, str]:
    return {p: h.member_id for p, h in cm.line_up(b, day).items()}


def test_a_general_election_elects_the_committee_for_five_years():
    b = branch()
    out = elect(b, *FULL)
    assert holders(b) == {"secretary": "m1", "organization_member": "m2", "propaganda_member": "m3",
                          "discipline_member": "m4"}
    assert b.secretary_id == "m1"
    assert out.term == {"election_id": "e1", "started_on": "2021-03-15", "ends_on": "2026-03-15", "years": 5}
    assert [(p, m, prev) for p, m, prev in out.appointed][0] == ("secretary", "m1", None)
    assert not cm.overdue(b, "2026-03-15") and cm.overdue(b, "2026-03-16")  # 换届逾期 from the day after


def test_the_next_general_election_ends_everyone_s_term_and_keeps_the_history():
    b = branch()
    elect(b, *FULL)
    out = elect(b, ("m1", "secretary", 9), ("m5", "organization_member", 9), ("m3", "propaganda_member", 9),
                ("m2", "discipline_member", 9), held_on="2026-04-10", election_id="e2")
    # m4 was not elected again; m2 moved from organisation to discipline: both left a post
    assert sorted(out.left) == [("discipline_member", "m4"), ("organization_member", "m2")]
    assert holders(b)["organization_member"] == "m5"
    assert holders(b, "2025-01-01")["organization_member"] == "m2"  # the line-up on any day
    assert b.term["ends_on"] == "2031-04-10"
    ended = [h for h in b.committee_history if h["until"] == "2026-04-10"]
    assert {h["left_reason"] for h in ended} == {"term_ended"} and len(ended) == 4


def test_an_election_needs_four_fifths_present_and_a_majority_for_each_elected():
    b = branch()
    assert refusal(elect, b, *FULL, eligible=10, present=8) == ("invalid", ["data.present"])  # 8/10 is not > 4/5
    assert refusal(elect, b, *FULL, eligible=10, present=11) == ("invalid", ["data.present"])
    assert refusal(elect, b, ("m1", "secretary", 4), ("m2", "organization_member", 10), present=9) == (
        "invalid", ["data.elected.0.votes", "data.elected.1.votes"])  # 4 of 9 is no majority; 10 > 9 present
    assert refusal(elect, b, ("m1", "secretary", 9), ("m2", "secretary", 9)) == ("invalid", ["data.elected.1.post"])
    assert refusal(elect, b, ("m1", "secretary", 9), ("m1", "deputy_secretary", 9)) == (
        "invalid", ["data.elected.1.member_id"])
    assert refusal(elect, b, ("m2", "organization_member", 9)) == ("invalid", ["data.elected"])  # no secretary
    assert b.committee_history == [] and b.elections == []  # nothing applied


def test_a_branch_without_committee_elects_a_secretary_and_perhaps_a_deputy():
    b = branch(has_committee=False)
    assert refusal(elect, b, ("m1", "secretary", 9), ("m2", "propaganda_member", 9)) == (
        "not_allowed", ["data.elected.1.post"])
    elect(b, ("m1", "secretary", 9), ("m2", "deputy_secretary", 9))
    assert cm.required_posts(False) == ("secretary",)


def test_a_by_election_fills_empty_posts_within_the_term():
    b = branch()
    elect(b, *FULL)
    assert cm.remove(b, post="propaganda_member", on="2023-05-20", reason="resigned") == "m3"
    assert refusal(elect, b, ("m5", "organization_member", 9), kind="by_election", held_on="2023-09-01",
                   election_id="e2") == ("conflict", ["data.elected.0.post"])  # held by m2
    out = elect(b, ("m5", "propaganda_member", 9), kind="by_election", held_on="2023-09-01", election_id="e2")
    assert out.left == [] and out.appointed == [("propaganda_member", "m5", None)]
    assert b.term["started_on"] == "2021-03-15"  # the term goes on
    assert refusal(elect, b, *FULL, held_on="2022-01-01", election_id="e3") == ("invalid", ["data.held_on"])
    assert refusal(elect, b, *FULL, held_on="2026-01-01", election_id="e2") == ("duplicate", ["data.election_id"])


def test_appointments_replace_the_holder_and_run_forward_in_time():
    b = branch()
    assert cm.appoint(b, "m1", post="secretary", on="2024-01-10") is None
    assert cm.appoint(b, "m2", post="secretary", on="2024-06-01") == "m1"
    assert b.secretary_id == "m2" and holders(b, "2024-03-01") == {"secretary": "m1"}
    assert refusal(cm.appoint, b, "m2", post="secretary", on="2024-07-01") == ("duplicate", ["data.member_id"])
    assert refusal(cm.appoint, b, "m3", post="secretary", on="2024-05-01") == ("invalid", ["data.on"])
    assert refusal(cm.appoint, b, "m2", post="deputy_secretary", on="2024-07-01") == ("conflict", ["data.member_id"])
    cm.appoint(b, "m2", post="organization_member", on="2024-07-01")  # 兼任: allowed
    assert cm.posts_of(b, "m2") == ["organization_member", "secretary"]
    assert refusal(cm.appoint, branch(has_committee=False), "m1", post="discipline_member", on="2024-01-01") == (
        "not_allowed", ["data.post"])


def test_removing_and_leaving_empty_the_posts():
    b = branch()
    elect(b, *FULL)
    assert refusal(cm.remove, b, post="deputy_secretary", on="2023-01-01", reason="resigned") == (
        "conflict", ["data.post"])
    assert refusal(cm.remove, b, post="secretary", on="2020-01-01", reason="resigned") == ("invalid", ["data.on"])
    cm.appoint(b, "m1", post="discipline_member", on="2022-01-01")
    assert cm.vacate_member(b, "m1", on="2023-02-01", reason="died") == ["discipline_member", "secretary"]
    assert b.secretary_id is None and "secretary" not in holders(b)
    assert sorted(cm.dissolve(b, on="2023-06-30")) == [("organization_member", "m2"), ("propaganda_member", "m3")]
    assert holders(b) == {}


def test_a_secretary_set_before_the_history_was_kept_is_still_the_holder():
    b = branch(secretary_id="m1")  # an organisation stored before posts were kept
    assert holders(b) == {"secretary": "m1"} and cm.line_up(b)["secretary"].since is None
    assert cm.appoint_secretary(b, "m1", on="2024-01-01") is False  # nothing changes
    assert cm.appoint_secretary(b, "m2", on="2024-01-01") is True and holders(b) == {"secretary": "m2"}
    assert cm.vacate_member(b, "m2", on="2024-05-01", reason="left_branch") == ["secretary"]


def test_the_committee_view_names_the_posts_in_chinese_and_dates_the_empty_ones():
    from services.members.domain.leadership_view import committee_view, member_ids

    b = branch(established_on="2010-01-06")
    elect(b, ("m1", "secretary", 8), ("m2", "organization_member", 8), ("m4", "discipline_member", 7))
    cm.remove(b, post="discipline_member", on="2024-05-20", reason="resigned")
    assert member_ids(b) == {"m1", "m2", "m4"}
    v = committee_view(b, day="2026-06-01", names={"m1": "王秀英", "m2": "李建国"})
    assert [(x["post_label"], x["name"], x["since"]) for x in v["line_up"]] == [
        ("书记", "王秀英", "2021-03-15"), ("组织委员", "李建国", "2021-03-15")]
    assert [(x["post_label"], x["since"]) for x in v["vacant_posts"]] == [
        ("宣传委员", "2010-01-06"), ("纪检委员", "2024-05-20")]  # never filled: since the branch began
    assert v["term"]["overdue"] and v["term"]["status_label"] == "换届逾期"
    assert v["elections"][0]["kind_label"] == "换届选举" and v["elections"][0]["elected"][0]["post_label"] == "书记"
    assert v["history"][-1]["left_reason_label"] == "辞职"
    early = committee_view(b, day="2021-01-01", names={})
    assert early["line_up"] == [] and early["term"]["overdue"] is False
