"""Volunteer hours (志愿服务) and one-to-one visits (走访): the service record of members.

Members this service has not heard of are accepted: a member's registration travels on another
topic and may arrive later.
"""
from dataclasses import dataclass, field
from decimal import Decimal

from shared.errors import duplicate, invalid, not_allowed

MAX_HOURS_PER_ENTRY = Decimal(24)


@dataclass
class VolunteerEntry:
    entry_id: str
    member_id: str
    team: str
    hours: str  # a decimal string, never a float
    on: str
    activity_id: str | None = None
    team_id: str | None = None  # a registered team (domain/teams.py); `team` is then its name


@dataclass
class Visit:
    visit_id: str
    member_id: str
    specialist_id: str
    on: str
    kind: str
    health: str | None = None  # as the specialist found it
    needs: list[str] = field(default_factory=list)
    notes: str = ""


def log_hours(existing: VolunteerEntry | None, *, entry_id: str, member_id: str, team: str, hours: Decimal,
              on: str, activity_id: str | None, activity_status: str | None,
              team_id: str | None = None) -> VolunteerEntry:
    """`activity_status`: the status of the named activity, None when none is named."""
    if existing is not None:
        raise duplicate(f"volunteer entry {entry_id} is already logged", "data.entry_id")
    if hours <= 0:
        raise invalid("hours must be positive", "data.hours")
    if hours > MAX_HOURS_PER_ENTRY:
        raise invalid(f"at most {MAX_HOURS_PER_ENTRY} hours per entry: log each day separately", "data.hours")
    if activity_status == "cancelled":
        raise not_allowed(f"activity {activity_id} was cancelled: no hours can be logged for it", "data.activity_id")
    return VolunteerEntry(entry_id, member_id, team.strip(), str(hours), on, activity_id, team_id)


def record_visit(existing: Visit | None, *, visit_id: str, member_id: str, specialist_id: str, on: str,
                 kind: str, health: str | None, needs: list[str], notes: str) -> Visit:
    if existing is not None:
        raise duplicate(f"visit {visit_id} is already recorded", "data.visit_id")
    cleaned = [n.strip() for n in needs if n.strip()]
    return Visit(visit_id, member_id, specialist_id, on, kind, health, list(dict.fromkeys(cleaned)), notes)
