"""Each figure of the report with a worked example, from facts to the contract's numbers."""
import pytest

from services.reporting.domain.contributions import difference, member_contribution
from services.reporting.domain.facts import MemberFacts
from services.reporting.domain.report import build, hours_text, months_elapsed, stars_for, subtree_required
from shared.periods import parse_period
from tests.unit.reporting.sums import ledgers, subtree_sums

pytestmark = pytest.mark.unit
Q1 = parse_period("2026-Q1")


def member(mid="m", branch="b", on="2026-01-05", **kw) -> MemberFacts:
    return MemberFacts(mid, name=mid, branch_id=branch, registered_on=on, **kw)


def report(members, activities=(), period=Q1, day="2026-03-31", branches=None, **kw):
    branches = {"b": {}} if branches is None else branches
    contributions = [member_contribution(m) for m in members] + ledgers(list(activities), branches)
    return build(subtree_sums(contributions, branches, period, day), subtree_required(list(branches.values()), period),
                 period, day, **kw)


def present(*entries):
    return {f"a{i}": {"held_on": day, "kind": kind, "status": status}
            for i, (day, kind, status) in enumerate(entries)}


def test_members_away_exempt_deceased_and_transferred():
    # registered 5 Jan: m1 resident; m2 away 10 Jan–15 Mar (back early: returned 1 Mar);
    # m3 exempt from 1 Feb; m4 died 20 Feb; m5 transferred to another branch on 15 Feb.
    m = [member("m1"), member("m2", away=[{"from": "2026-01-10", "until": "2026-03-15", "location": "三亚"}],
                               returns=["2026-03-01"]),
         member("m3", exempt=[{"from": "2026-02-01", "until": None}]), member("m4", died_on="2026-02-20"),
         member("m5", transfers=[{"on": "2026-02-15", "from_branch_id": "b", "to_branch_id": "b9"}])]
    assert report(m)["members"] == {"registered": 3, "resident": 3, "away": 0, "exempt": 1, "deceased": 1}
    assert report(m, day="2026-02-16")["members"] == {"registered": 4, "resident": 3, "away": 1, "exempt": 1,
                                                      "deceased": 0}
    # before 5 Jan nobody is registered yet; the other branch has m5 after the transfer
    assert report(m, day="2026-01-04")["members"]["registered"] == 0
    assert report(m, branches={"b9": {}})["members"]["registered"] == 1


def test_participation_counts_present_in_organisational_life_or_study():
    # m1 present at a themed day (remote counts); m2 on leave; m3 present at a cultural event only;
    # m4 present but away (counts in rate, not in resident_rate); m5 present but exempt (active,
    # but in neither rate: contract).
    m = [member("m1", attendance=present(("2026-02-01", "themed_party_day", "present"))),
         member("m2", attendance=present(("2026-02-01", "themed_party_day", "leave"))),
         member("m3", attendance=present(("2026-02-02", "cultural", "present"))),
         member("m4", attendance=present(("2026-02-03", "study", "present")),
                away=[{"from": "2026-01-10", "until": None, "location": "三亚"}]),
         member("m5", attendance=present(("2026-02-01", "party_lecture", "present")),
                exempt=[{"from": "2026-01-01", "until": None}])]
    r = report(m)
    # active 3 (m1 m4 m5); rate: m1 m4 ÷ (5 − 1); resident rate: m1 ÷ (4 residents − 1 exempt)
    assert r["participation"] == {"active": 3, "rate": 0.5, "resident_rate": 0.3333}


def test_a_rate_is_never_above_one():
    # both attend; m2 is exempt: active 2, but the rates count m1 only, over the one member not exempt
    exempt = [{"from": "2026-01-01", "until": None}]
    m = [member("m1", attendance=present(("2026-02-01", "study", "present"))),
         member("m2", attendance=present(("2026-02-01", "study", "present")), exempt=exempt)]
    r = report(m)
    assert r["participation"] == {"active": 2, "rate": 1.0, "resident_rate": 1.0}
    assert r["score"] <= 100
    # exempt only after attending: on the reading day m2 is exempt, so out of both rates
    later = [{"from": "2026-03-01", "until": None}]
    r = report([m[0], member("m2", attendance=m[1].attendance, exempt=later)])
    assert r["participation"] == {"active": 2, "rate": 1.0, "resident_rate": 1.0}
    # the exemption over before the reading day: m2 counts again
    over = [{"from": "2026-01-01", "until": "2026-02-28"}]
    r = report([m[0], member("m2", attendance=m[1].attendance, exempt=over)])
    assert r["participation"] == {"active": 2, "rate": 1.0, "resident_rate": 1.0}
    assert report([m[0], member("m2", exempt=over)])["participation"]["rate"] == 0.5


def test_cancelled_attendance_does_not_count():
    m = member("m1", attendance={"a": {"held_on": "2026-02-01", "kind": "branch_assembly", "status": "present",
                                       "cancelled": True}})
    assert report([m])["participation"]["active"] == 0


def test_attendance_before_registration_counts_once_registered():
    m = member("m6", on="2026-03-20", attendance=present(("2026-03-10", "party_lecture", "present")))
    assert report([m])["participation"]["active"] == 1
    assert report([m], day="2026-03-19")["participation"]["active"] == 0


def test_organisational_life_required_and_held_with_alliance_and_cancelled():
    acts = [{"held": True, "kind": "committee_meeting", "branch_ids": ["b"], "held_on": "2026-01-15"},
            {"held": True, "kind": "committee_meeting", "branch_ids": ["b"], "held_on": "2026-01-20"},  # extra
            {"held": True, "cancelled": True, "kind": "committee_meeting", "branch_ids": ["b"], "held_on": "2026-02-10"},
            {"held": True, "kind": "party_lecture", "branch_ids": ["b", "c"], "held_on": "2026-03-10"},  # alliance
            {"held": True, "kind": "themed_party_day", "branch_ids": ["c"], "held_on": "2026-01-20"}]
    branches = {"b": {"has_committee": True}, "c": {"party_groups": 2}}
    life = report([], acts, branches=branches)["organisational_life"]
    assert life["committee_meeting"] == {"required": 3, "held": 2}
    assert life["group_meeting"] == {"required": 6, "held": 0}  # per party group (contract): 2 groups × 3 months
    assert life["party_lecture"] == {"required": 2, "held": 2}
    assert life["themed_party_day"] == {"required": 6, "held": 1}
    # b: min(2,3) + 1 of 1+3+1+3 = 8; c: 1 + 1 of 1+6+1+3 = 11 → 5 / 19 (b's extra meeting never covers c)
    assert life["compliance"] == 0.2632
    # two groups, each meeting in March: both count (up to 2 a month, not 1)
    groups = [{"held": True, "kind": "group_meeting", "branch_ids": ["c"], "held_on": f"2026-03-0{d}"} for d in (3, 4, 5)]
    march = report([], groups, branches={"c": {"party_groups": 2}}, period=parse_period("2026-03"))
    assert march["organisational_life"]["group_meeting"] == {"required": 2, "held": 3}
    assert march["organisational_life"]["compliance"] == round(2 / 3, 4)  # 2 of 1 + 2 (themed day missing)
    assert report([], [], branches={"b": {}}, period=parse_period("2026-03"))["organisational_life"]["compliance"] == 0.0


def test_nothing_required_is_full_compliance():
    assert report([], period=parse_period("2026-03"), branches={})["organisational_life"]["compliance"] == 1.0


def test_dues_partial_advance_double_and_registration_month():
    pay = lambda months, cents, on: {"months": months, "cents": cents, "paid_on": on}
    m = [member("m1", payments={"p1": pay(["2026-01", "2026-02"], 4800, "2026-01-10")}),  # Mar unpaid
         member("m2", payments={"p2": pay([f"2026-0{i}" for i in range(1, 7)], 14400, "2026-01-08")}),  # advance
         member("m3", payments={"p3": pay(["2026-02"], 2400, "2026-02-01"), "p4": pay(["2026-02"], 2400, "2026-02-02")}),
         member("m4", on="2026-02-10", payments={"p5": pay(["2026-03"], 2400, "2026-04-02")})]  # paid after the quarter
    d = report(m)["dues"]
    # due: 3 + 3 + 3 + 2 (m4 from February); paid: 2 + 3 + 1 (twice, once) + 0 (paid in April);
    # amount: 48 + 144 + 24 + 24 (both of m3's payments were made) = 240
    assert d == {"member_months_due": 11, "member_months_paid": 6, "rate": 0.5455, "amount_paid": "240.00"}
    # As of 30 April: m4's payment counts in Q2's amount; only April is due yet, and only m2 paid it
    q2 = report(m, period=parse_period("2026-Q2"), day="2026-04-30")["dues"]
    assert q2 == {"member_months_due": 4, "member_months_paid": 1, "rate": 0.25, "amount_paid": "24.00"}


def test_months_elapsed_follow_the_reading_day():
    assert months_elapsed(Q1, "2026-02-16") == 2
    assert months_elapsed(Q1, "2025-12-31") == 0


def test_volunteer_hours_notices_and_visits():
    m = [member("m1", hours={"h1": {"on": "2026-02-14", "hundredths": 250}, "h2": {"on": "2026-04-01", "hundredths": 100}},
                notices={"n1": {"addressed_on": "2026-02-01", "acked_on": "2026-02-03"},
                         "n2": {"addressed_on": "2026-03-01"}},
                visits={"v1": "2026-03-01"}),
         member("m2", lives_alone=True, visits={"v2": "2026-02-20"}),  # 30-day limit: overdue since 23 Mar
         member("m3")]  # never visited: 60 days after registration, overdue since 7 Mar
    r = report(m)
    assert r["volunteer_hours"] == "2.5"
    assert r["notices"] == {"sent": 2, "acknowledged": 1, "ack_rate": 0.5}
    assert r["visits"] == {"members_visited": 2, "overdue": 2}
    assert report(m, day="2026-03-06")["visits"]["overdue"] == 0


def test_score_and_stars():
    # nothing to measure counts as 1 in the score: a branch with no members and nothing required
    r = report([], period=parse_period("2026-03"), branches={})
    assert r["score"] == 100.0 and r["recommended_stars"] == 5
    assert [stars_for(s) for s in (95, 90, 89.99, 80, 70, 60, 59.9)] == [5, 5, 4, 4, 3, 2, 1]
    assert report([], branches={}, stars=4)["stars"] == 4


def test_contribution_is_the_same_whatever_the_order_of_facts():
    a = member("m", attendance=present(("2026-02-01", "study", "present")))
    a.payments = {"p": {"months": ["2026-01"], "cents": 2400, "paid_on": "2026-01-03"}}
    b = member("m")
    b.payments = dict(a.payments)
    b.attendance = dict(a.attendance)
    assert member_contribution(a) == member_contribution(b)
    assert difference(member_contribution(a), member_contribution(a)) == {}


def test_hours_text():
    assert [hours_text(x) for x in (0, 250, 4000, 4250, 5)] == ["0", "2.5", "40", "42.5", "0.05"]


def test_a_change_of_attendance_alone_differs_from_the_full_contribution_in_nothing():
    """`attendance_difference` (what a member's refresh applies when a batch changed their attendance
    alone) against the difference of the whole contributions, for members with transfers, away and
    exempt spans and a death, and meetings added, cancelled or marked absent, in any month."""
    import copy
    import random

    from services.reporting.domain.contributions import attendance_difference, first_present

    rng = random.Random(20261206)
    kinds = ["branch_meeting", "party_class", "study", "volunteer", "committee_meeting"]

    def day() -> str:
        return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"

    checked = moved = 0
    for i in range(400):
        m = member(f"m{i}", on=f"2026-0{rng.randint(1, 3)}-0{rng.randint(1, 9)}")
        if rng.random() < 0.3:
            m.transfers = [{"on": day(), "from_branch_id": "b", "to_branch_id": rng.choice(["b2", None])}]
        if rng.random() < 0.3:
            m.away = [{"from": day(), "until": rng.choice([None, day()]), "location": "三亚"}]
        if rng.random() < 0.3:
            m.exempt = [{"from": day(), "until": rng.choice([None, day()])}]
        if rng.random() < 0.1:
            m.died_on = day()
        m.attendance = {f"a{j}": {"held_on": day(), "kind": rng.choice(kinds), "status": rng.choice(
            ["present", "present", "absent"]), "cancelled": rng.random() < 0.1} for j in range(rng.randint(0, 30))}
        after = copy.deepcopy(m)
        for j in range(rng.randint(1, 3)):
            act = rng.choice([*after.attendance, f"new{j}"])
            if act in after.attendance and rng.random() < 0.5:
                after.attendance[act]["cancelled"] = True
            else:
                after.attendance[act] = {"held_on": day(), "kind": rng.choice(kinds),
                                         "status": rng.choice(["present", "absent"]), "cancelled": False}
        full = difference(member_contribution(m), member_contribution(after))
        assert attendance_difference(after, first_present(m)) == full, m.member_id
        checked += 1
        moved += bool(full)
    assert checked == 400 and 100 < moved < 400  # both kinds of change were tried
