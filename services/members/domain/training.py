"""Training of branch secretaries (培训): the sessions held and who attended them. Pure.

A session is kept once (its attendees by id); each attendee's record lists the sessions they
attended, so a member's ledger shows their training without a query.
"""
from decimal import Decimal

from services.members.domain.member import Member
from shared.errors import Rejected, duplicate, invalid, not_allowed

MAX_HOURS = Decimal(200)  # a long course counts in class hours (学时), not days


def check_session(*, hours: Decimal, attendee_ids: list[str]) -> None:
    errors = []
    if not 0 < hours <= MAX_HOURS:
        errors.append({"field": "data.hours", "message": f"a session lasts more than 0 and at most {MAX_HOURS} hours"})
    seen: set[str] = set()
    for i, member_id in enumerate(attendee_ids):
        if member_id in seen:
            errors.append({"field": f"data.attendee_ids.{i}", "message": f"member {member_id} is listed twice"})
        seen.add(member_id)
    if errors:
        raise Rejected.many("invalid", errors)


def check_attendee(member: Member, held_on: str, field_name: str) -> None:
    """An attendee must have been registered by the session's day; the dead and the departed
    take no more commands (refused like any command naming them)."""
    if member.died_on is not None or member.transferred_on is not None:
        raise not_allowed(f"member {member.member_id} is no longer in the district's ledger", field_name)
    if held_on < member.registered_on:
        raise invalid(f"member {member.member_id} was registered on {member.registered_on}, after the session",
                      field_name)


def attend(member: Member, *, session_id: str, title: str, held_on: str, hours: str, field_name: str) -> None:
    if any(t["session_id"] == session_id for t in member.trainings):
        raise duplicate(f"member {member.member_id} already attended session {session_id}", field_name)
    member.trainings.append({"session_id": session_id, "title": title, "held_on": held_on, "hours": hours})
    member.trainings.sort(key=lambda t: (t["held_on"], t["session_id"]))


def trained_in(member: Member, year: int) -> list[dict]:
    return [t for t in member.trainings if t["held_on"][:4] == f"{year:04d}"]
