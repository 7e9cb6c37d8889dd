"""Venues (活动阵地) and their bookings: a venue is never booked twice for overlapping times.

Bookings are kept per venue and per Asia/Shanghai day, one document each, so the check for a
new activity reads only the days it touches (one `$in` read), and the document written back is
the one read (one writer per service), so two overlapping bookings cannot both pass.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.errors import conflict, duplicate, invalid
from shared.periods import local_date

# A booking may span several days (an exhibition), but not hold a venue for months.
MAX_BOOKING_DAYS = 31


@dataclass
class Venue:
    venue_id: str
    name: str
    org_id: str
    capacity: int
    facilities: list[str] = field(default_factory=list)


@dataclass
class DayBookings:
    """One venue's bookings on one day; `_id` is `<venue_id>/<YYYY-MM-DD>`."""

    venue_id: str
    day: str
    bookings: list[dict] = field(default_factory=list)  # {activity_id, kind, starts_utc, ends_utc}

    @property
    def key(self) -> str:
        return day_key(self.venue_id, self.day)


def day_key(venue_id: str, day: str) -> str:
    return f"{venue_id}/{day}"


def register(existing: Venue | None, *, venue_id: str, name: str, org_id: str, capacity: int,
             facilities: list[str]) -> Venue:
    if existing is not None:
        raise duplicate(f"venue {venue_id} is already registered", "data.venue_id")
    if capacity < 1:
        raise invalid("capacity must be at least 1", "data.capacity")
    return Venue(venue_id, name, org_id, capacity, sorted(set(facilities)))


def days_touched(starts_at: datetime, ends_at: datetime) -> list[str]:
    """The local days an activity occupies (one ending at midnight does not touch the next day)."""
    first = local_date(starts_at)
    last = local_date(ends_at - timedelta(microseconds=1))
    n = (last - first).days + 1
    return [(first + timedelta(days=i)).isoformat() for i in range(max(n, 1))]


def check_span(starts_at: datetime, ends_at: datetime) -> None:
    if len(days_touched(starts_at, ends_at)) > MAX_BOOKING_DAYS:
        raise invalid(f"a venue can be booked for at most {MAX_BOOKING_DAYS} days at once", "data.ends_at")


def book(days: list[DayBookings], *, activity_id: str, kind: str, starts_utc: str, ends_utc: str) -> None:
    """Add the booking to every day it touches, or refuse if it overlaps another (half-open
    intervals: one activity may start when the previous one ends)."""
    for d in days:
        for b in d.bookings:
            if b["starts_utc"] < ends_utc and starts_utc < b["ends_utc"]:
                raise conflict(f"venue {d.venue_id} is already booked from {b['starts_utc']} to {b['ends_utc']} "
                               f"by activity {b['activity_id']}", "data.venue_id")
    for d in days:
        d.bookings.append({"activity_id": activity_id, "kind": kind, "starts_utc": starts_utc, "ends_utc": ends_utc})
        d.bookings.sort(key=lambda b: b["starts_utc"])


def release(days: list[DayBookings], activity_id: str) -> None:
    """Free the venue when an activity is cancelled."""
    for d in days:
        d.bookings = [b for b in d.bookings if b["activity_id"] != activity_id]
