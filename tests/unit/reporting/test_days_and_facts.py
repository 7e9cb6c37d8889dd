"""Intervals of days, and what a member's facts say about them."""
import pytest

from services.reporting.domain import days as d
from services.reporting.domain.facts import MemberFacts, Stint, attendance_entry

pytestmark = pytest.mark.unit


def test_interval_arithmetic():
    assert d.union([("2026-01-05", "2026-02-01"), ("2026-01-20", "2026-03-01"), ("2026-04-01", None)]) == [
        ("2026-01-05", "2026-03-01"), ("2026-04-01", None)]
    assert d.intersect([("2026-01-01", None)], [("2025-12-01", "2026-02-01")]) == [("2026-01-01", "2026-02-01")]
    assert d.subtract([("2026-01-01", None)], [("2026-02-01", "2026-03-01")]) == [
        ("2026-01-01", "2026-02-01"), ("2026-03-01", None)]
    assert d.periods_of("2026-11-28") == ["2026-11", "2026-Q4", "2026"]
    assert d.add_months("2026-08-31", 6) == "2027-02-28"
    assert d.prev_month("2026-01") == "2025-12" and d.next_month("2026-12") == "2027-01"


def test_stints_follow_transfers_and_end_with_death_or_leaving():
    m = MemberFacts("m", branch_id="b1", registered_on="2026-01-05",
                    transfers=[{"on": "2026-05-01", "from_branch_id": "b2", "to_branch_id": None},
                               {"on": "2026-03-01", "from_branch_id": "b1", "to_branch_id": "b2"}])
    assert m.stints() == [Stint("b1", "2026-01-05", "2026-03-01"), Stint("b2", "2026-03-01", "2026-05-01")]
    m.transfers = m.transfers[1:]
    m.died_on = "2026-04-10"
    assert m.stints()[-1] == Stint("b2", "2026-03-01", "2026-04-10")
    assert m.stint_on("2026-04-10") is None and m.stint_on("2026-04-09").branch_id == "b2"
    assert MemberFacts("x").stints() == []  # facts before the registration arrives count nowhere


def test_away_ends_on_return_or_after_until():
    m = MemberFacts("m", away=[{"from": "2026-01-10", "until": "2026-03-31", "location": "三亚"},
                               {"from": "2026-11-01", "until": None, "location": "三亚"}],
                    returns=["2026-03-01"])
    assert m.away_spans() == [("2026-01-10", "2026-03-01"), ("2026-11-01", None)]
    m.returns = []
    assert m.away_spans()[0] == ("2026-01-10", "2026-04-01")  # until is inclusive


def test_months_paid_take_the_earliest_payment():
    m = MemberFacts("m", payments={"p1": {"months": ["2026-02"], "cents": 2400, "paid_on": "2026-02-20"},
                                   "p2": {"months": ["2026-01", "2026-02"], "cents": 4800, "paid_on": "2026-02-01"}})
    assert m.month_paid_on() == {"2026-01": "2026-02-01", "2026-02": "2026-02-01"}


def test_a_month_overlaps_intervals_exactly_when_their_intersection_is_not_empty():
    import random

    rnd = random.Random(7)

    def day() -> str:
        return f"2025-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
    assert d.overlaps_month([("2025-03-31", "2025-04-01")], "2025-03")
    assert not d.overlaps_month([("2025-03-31", "2025-04-01")], "2025-04")  # the end is excluded
    assert d.overlaps_month([("2024-06-01", None)], "2025-12") and not d.overlaps_month([], "2025-12")
    for _ in range(5000):
        intervals = []
        for _ in range(rnd.randint(0, 3)):
            s, e = sorted([day(), day()])
            intervals.append((s, None if rnd.random() < 0.3 else e))
        month = f"2025-{rnd.randint(1, 12):02d}"
        whole = d.intersect(intervals, [(d.first_day(month), d.first_day(d.next_month(month)))])
        assert d.overlaps_month(intervals, month) == bool(whole), (intervals, month)


def test_an_attendance_is_kept_with_what_differs_from_the_usual_one_and_read_alike_either_way():
    usual = attendance_entry("2025-03-01", "study", "present", "in_person", False)
    assert usual == {"held_on": "2025-03-01", "kind": "study"}
    remote = attendance_entry("2025-03-02", "study", "present", "remote", False)
    assert remote == {"held_on": "2025-03-02", "kind": "study", "mode": "remote"}
    absent = attendance_entry("2025-03-03", "branch_assembly", "absent", "in_person", False)
    cancelled = attendance_entry("2025-03-04", "study", "present", "in_person", True)
    whole = {"held_on": "2025-03-05", "kind": "study", "status": "present", "mode": "in_person", "cancelled": False}
    m = MemberFacts("m", branch_id="b", registered_on="2020-01-01",
                    attendance={"a1": usual, "a2": remote, "a3": absent, "a4": cancelled, "a5": whole})
    assert m.present_days() == ["2025-03-01", "2025-03-02", "2025-03-05"]
