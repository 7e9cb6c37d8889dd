"""Rules of activities: scheduling, holding once, attendance corrections, cancelling, capacity."""
from datetime import datetime

import pytest

from services.activities.domain import activity as act
from shared.errors import Rejected

pytestmark = pytest.mark.unit


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _scheduled(kind="branch_assembly", starts="2026-03-05T09:00:00+08:00", ends="2026-03-05T11:00:00+08:00"):
    return act.schedule(None, activity_id="a1", kind=kind, title="党员大会", branch_ids=["b1", "b2"],
                        starts_at=_at(starts), ends_at=_at(ends), venue_id=None, organizer_id=None)


def _reason(fn, *args, **kw) -> tuple[str, str]:
    with pytest.raises(Rejected) as e:
        fn(*args, **kw)
    return e.value.reason, e.value.errors[0]["field"]


def test_held_on_is_the_shanghai_date_of_the_start():
    a = _scheduled(starts="2026-03-04T17:30:00+00:00", ends="2026-03-04T19:00:00+00:00")
    assert a.held_on == "2026-03-05"  # 01:30 in Shanghai
    assert a.starts_utc == "2026-03-04T17:30:00.000000Z"


def test_schedule_refuses_duplicates_and_backwards_times():
    a = _scheduled()
    assert _reason(act.schedule, a, activity_id="a1", kind="study", title="t", branch_ids=["b1"],
                   starts_at=_at("2026-03-05T09:00:00+08:00"), ends_at=_at("2026-03-05T10:00:00+08:00"),
                   venue_id=None, organizer_id=None) == ("duplicate", "data.activity_id")
    assert _reason(act.schedule, None, activity_id="a2", kind="study", title="t", branch_ids=["b1"],
                   starts_at=_at("2026-03-05T09:00:00+08:00"), ends_at=_at("2026-03-05T09:00:00+08:00"),
                   venue_id=None, organizer_id=None) == ("invalid", "data.ends_at")


def test_minutes_are_required_for_san_hui_yi_ke_only():
    assert _reason(act.record_held, _scheduled(), minutes="  ", attendance=[]) == ("invalid", "data.minutes")
    held = act.record_held(_scheduled("cultural"), minutes=None, attendance=[])
    assert held.status == "held"


def test_held_once_then_conflict():
    a = act.record_held(_scheduled(), minutes="记录", attendance=[])
    assert _reason(act.record_held, a, minutes="记录", attendance=[]) == ("conflict", "data.activity_id")


def test_attendance_lists_a_member_once():
    rows = [{"member_id": "m1", "status": "present", "mode": "in_person"},
            {"member_id": "m1", "status": "absent", "mode": "in_person"}]
    assert _reason(act.record_held, _scheduled(), minutes="记录", attendance=rows) == (
        "invalid", "data.attendance.1.member_id")


def test_capacity_counts_only_present_in_person():
    rows = [{"member_id": "m1", "status": "present", "mode": "in_person"},
            {"member_id": "m2", "status": "present", "mode": "remote"},
            {"member_id": "m3", "status": "present", "mode": "home_delivery"},
            {"member_id": "m4", "status": "absent", "mode": "in_person"}]
    a = act.record_held(_scheduled(), minutes="记录", attendance=rows, capacity=1)
    assert (a.capacity, a.over_capacity) == (1, False)
    act.record_attendance(a, member_id="m2", status="present", mode="in_person")
    assert a.over_capacity is True
    no_venue = act.record_held(_scheduled(), minutes="记录", attendance=rows)
    assert (no_venue.capacity, no_venue.over_capacity) == (None, False)


def test_attendance_corrections_return_what_they_replace():
    a = act.record_held(_scheduled(), minutes="记录", attendance=[{"member_id": "m1", "status": "absent",
                                                                 "mode": "in_person"}])
    previous = act.record_attendance(a, member_id="m1", status="present", mode="remote")
    assert previous == {"member_id": "m1", "status": "absent", "mode": "in_person"}
    assert a.attendance == [{"member_id": "m1", "status": "present", "mode": "remote"}]
    assert act.record_attendance(a, member_id="unknown-to-us", status="leave", mode="in_person") is None
    assert len(a.attendance) == 2


def test_attendance_needs_a_held_activity_that_was_not_cancelled():
    assert _reason(act.record_attendance, _scheduled(), member_id="m1", status="present",
                   mode="in_person") == ("not_allowed", "data.activity_id")
    cancelled = act.cancel(_scheduled(), reason="暴雨")
    assert _reason(act.record_attendance, cancelled, member_id="m1", status="present",
                   mode="in_person") == ("not_allowed", "data.activity_id")


def test_cancel_rules():
    held = act.record_held(_scheduled(), minutes="记录", attendance=[])
    assert _reason(act.cancel, held, reason="x") == ("not_allowed", "data.activity_id")
    cancelled = act.cancel(_scheduled(), reason="暴雨")
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "暴雨")
    assert _reason(act.cancel, cancelled, reason="x") == ("conflict", "data.activity_id")
    assert _reason(act.record_held, cancelled, minutes="记录", attendance=[]) == ("not_allowed", "data.activity_id")
