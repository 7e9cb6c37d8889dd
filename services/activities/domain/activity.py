"""Activities and organisational life (组织生活): scheduling, holding, attendance, cancelling.

An activity is recorded as held once; later corrections of who came go through attendance
corrections, one member at a time, each remembering the status it replaced.
"""
from dataclasses import dataclass, field
from datetime import datetime, timezone

from shared.contracts.codes import SAN_HUI_YI_KE
from shared.errors import conflict, duplicate, invalid, not_allowed
from shared.periods import local_date


@dataclass
class Activity:
    activity_id: str
    kind: str
    title: str
    branch_ids: list[str]
    starts_at: str
    ends_at: str
    held_on: str  # the Asia/Shanghai date of starts_at: the day it counts for
    venue_id: str | None = None
    organizer_id: str | None = None
    status: str = "scheduled"  # scheduled · held · cancelled
    minutes: str | None = None
    attendance: list[dict] = field(default_factory=list)
    # UTC instants, comparable as strings: for sorting and overlap checks across time zones.
    starts_utc: str = ""
    ends_utc: str = ""
    capacity: int | None = None  # the venue's, when it was held
    over_capacity: bool = False
    cancel_reason: str | None = None


def utc(moment: datetime) -> str:
    """A fixed-width UTC form, so that instants compare correctly as strings."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def schedule(existing: Activity | None, *, activity_id: str, kind: str, title: str, branch_ids: list[str],
             starts_at: datetime, ends_at: datetime, venue_id: str | None, organizer_id: str | None) -> Activity:
    if existing is not None:
        raise duplicate(f"activity {activity_id} already exists", "data.activity_id")
    if ends_at <= starts_at:
        raise invalid("ends_at must come after starts_at", "data.ends_at")
    if len(set(branch_ids)) != len(branch_ids):
        raise invalid("branch_ids names a branch twice", "data.branch_ids")
    return Activity(activity_id, kind, title, list(branch_ids), starts_at.isoformat(), ends_at.isoformat(),
                    local_date(starts_at).isoformat(), venue_id, organizer_id,
                    starts_utc=utc(starts_at), ends_utc=utc(ends_at))


def _check_open(activity: Activity) -> None:
    if activity.status == "cancelled":
        raise not_allowed(f"activity {activity.activity_id} was cancelled", "data.activity_id")


def present_in_person(attendance: list[dict]) -> int:
    """Who took a seat: remote and home-delivery participants do not fill the venue."""
    return sum(1 for a in attendance if a["status"] == "present" and a.get("mode", "in_person") == "in_person")


def _flag_capacity(activity: Activity, capacity: int | None) -> None:
    activity.capacity = capacity
    activity.over_capacity = capacity is not None and present_in_person(activity.attendance) > capacity


def record_held(activity: Activity, *, minutes: str | None, attendance: list[dict],
                capacity: int | None = None) -> Activity:
    """`capacity`: the venue's, if the activity has one. Crowding is flagged, not refused: the
    meeting has already taken place and its record must be kept."""
    _check_open(activity)
    if activity.status == "held":
        raise conflict(f"activity {activity.activity_id} is already recorded as held; "
                       "correct attendance with RecordAttendance", "data.activity_id")
    if activity.kind in SAN_HUI_YI_KE and not (minutes or "").strip():
        raise invalid("minutes (会议记录) are required for 三会一课", "data.minutes")
    seen: set[str] = set()
    for i, a in enumerate(attendance):
        if a["member_id"] in seen:
            raise invalid(f"member {a['member_id']} appears twice", f"data.attendance.{i}.member_id")
        seen.add(a["member_id"])
    activity.status, activity.minutes, activity.attendance = "held", minutes, list(attendance)
    _flag_capacity(activity, capacity)
    return activity


def record_attendance(activity: Activity, *, member_id: str, status: str, mode: str) -> dict | None:
    """Correct (or add) one member's attendance of a held activity; returns the entry it replaced."""
    _check_open(activity)
    if activity.status != "held":
        raise not_allowed(f"activity {activity.activity_id} is not recorded as held yet: "
                          "send RecordActivityHeld with its attendance first", "data.activity_id")
    entry = next((a for a in activity.attendance if a["member_id"] == member_id), None)
    previous = dict(entry) if entry else None
    if entry is None:
        activity.attendance.append({"member_id": member_id, "status": status, "mode": mode})
    else:
        entry.update(status=status, mode=mode)
    _flag_capacity(activity, activity.capacity)
    return previous


def cancel(activity: Activity, *, reason: str) -> Activity:
    if activity.status == "held":
        raise not_allowed(f"activity {activity.activity_id} was already held and cannot be cancelled",
                          "data.activity_id")
    if activity.status == "cancelled":
        raise conflict(f"activity {activity.activity_id} is already cancelled", "data.activity_id")
    activity.status, activity.cancel_reason = "cancelled", reason
    return activity
