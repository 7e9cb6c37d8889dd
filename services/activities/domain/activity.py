"""Activities and organisational life (组织生活): scheduling and recording them as held."""
from dataclasses import dataclass, field
from datetime import datetime

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


def schedule(existing: Activity | None, *, activity_id: str, kind: str, title: str, branch_ids: list[str],
             starts_at: datetime, ends_at: datetime, venue_id: str | None, organizer_id: str | None) -> Activity:
    if existing is not None:
        raise duplicate(f"activity {activity_id} already exists", "data.activity_id")
    if ends_at <= starts_at:
        raise invalid("ends_at must come after starts_at", "data.ends_at")
    return Activity(activity_id, kind, title, list(branch_ids), starts_at.isoformat(), ends_at.isoformat(),
                    local_date(starts_at).isoformat(), venue_id, organizer_id)


def record_held(activity: Activity, *, minutes: str | None, attendance: list[dict]) -> Activity:
    if activity.status == "cancelled":
        raise not_allowed(f"activity {activity.activity_id} was cancelled", "data.activity_id")
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
    return activity
