"""Where each command of activities.commands writes, for `POST /api/v1/commands` (shared.auth.command_scope).

Activities knows the tree only through its branches (`branches`: ancestors), an organisation above
them through a branch below it (`queries.known_org_path`), a member through their branch and
specialist (`members`, projected from members.events). An activity is placed by its branches, a
venue and a volunteer team by their organisation, a service request by its branch (or, without
one, its member). A command that creates something is placed where it creates it.
"""
from services.activities.adapters import queries
from services.activities.adapters.documents import ACTIVITIES, BRANCHES, MEMBERS, REQUESTS, TEAMS, VENUES
from shared.auth.command_scope import Place, Scope, unknown


async def _branch(db, branch_id: str) -> Place:
    doc = await db[BRANCHES].find_one({"_id": branch_id}, {"ancestors": 1})
    if doc is None:
        return unknown("branch", branch_id)
    return Place("branch", branch_id, (*doc.get("ancestors", []), branch_id))


async def _org(db, org_id: str) -> Place:
    path = await queries.known_org_path(db, org_id)
    return Place("organisation", org_id, tuple(path)) if path else unknown("organisation", org_id)


async def _member(db, member_id: str) -> Place:
    doc = await db[MEMBERS].find_one({"_id": member_id}, {"branch_id": 1, "specialist_id": 1})
    if doc is None or not doc.get("branch_id"):
        return unknown("member", member_id)
    return Place("member", member_id, (await _branch(db, doc["branch_id"])).path, member_id, doc.get("specialist_id"))


async def _within(db, what: str, id: str, coll: str, field: str) -> Place:
    """A record placed by the organisation it belongs to (a venue's, a team's community)."""
    doc = await db[coll].find_one({"_id": id}, {field: 1})
    if doc is None:
        return unknown(what, id)
    return Place(what, id, (await _org(db, doc[field])).path)


async def _activity(db, m) -> list[Place]:
    doc = await db[ACTIVITIES].find_one({"_id": m.activity_id}, {"branch_ids": 1})
    if doc is None:
        return [unknown("activity", m.activity_id)]
    return [Place("activity", m.activity_id, (await _branch(db, b)).path) for b in doc["branch_ids"]]


async def _schedule(db, m) -> list[Place]:
    """Its branches, and the venue it books (another organisation's venue is theirs to book)."""
    venue = [await _within(db, "venue", m.venue_id, VENUES, "org_id")] if m.venue_id else []
    return [*[await _branch(db, b) for b in m.branch_ids], *venue]


async def _venue(db, m) -> list[Place]:
    return [await _org(db, m.org_id)]


async def _member_of(db, m) -> list[Place]:
    return [await _member(db, m.member_id)]


async def _community(db, m) -> list[Place]:
    """A new team, a facility demand: placed by the community named."""
    return [await _org(db, m.community_id)]


async def _team(db, m) -> list[Place]:
    return [await _within(db, "team", m.team_id, TEAMS, "community_id")]


async def _request(db, m) -> list[Place]:
    doc = await db[REQUESTS].find_one({"_id": m.request_id}, {"branch_id": 1, "member_id": 1})
    if doc is None:
        return [unknown("request", m.request_id)]
    if doc.get("branch_id"):
        return [Place("request", m.request_id, (await _branch(db, doc["branch_id"])).path)]
    return [Place("request", m.request_id, (await _member(db, doc["member_id"])).path)]


COMMAND_SCOPES: dict[str, Scope] = {
    "RegisterVenue": _venue,
    "ScheduleActivity": _schedule,
    "RecordActivityHeld": _activity,
    "RecordAttendance": _activity,
    "CancelActivity": _activity,
    "LogVolunteerHours": _member_of,
    "RecordVisit": _member_of,  # a specialist: only their own members (the member's specialist_id)
    "RegisterVolunteerTeam": _community,
    "JoinVolunteerTeam": _team,
    "LeaveVolunteerTeam": _team,
    "AppointTeamLeader": _team,
    "OpenServiceRequest": _member_of,
    "AssignServiceRequest": _request,
    "ResolveServiceRequest": _request,
    "RecordFacilityDemand": _community,
}
