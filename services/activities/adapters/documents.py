"""Activities' collections and their mapping to domain objects.

activities · venues · venue_days (bookings per venue and day) · volunteer_entries · visits ·
volunteer_teams and volunteer_team_members (a member's spans on a team) · service requests ·
branches and members (projections of members.events, written only by the members-events pipeline).

Each collection with a domain type is declared once as a typed `Collection` (ACTIVITY, VENUE,
VENUE_DAY, VOLUNTEER_ENTRY, VISIT, BRANCH, MEMBER_VIEW): handlers use `ctx.repo(ACTIVITY).get(id)`.
The names (`ACTIVITIES`…) serve queries, HTTP routes and the handlers' `wants`. Documents read
from the database carry the unit of work's version `_v`: the mappings read only their own fields.
"""
from dataclasses import asdict, fields

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from services.activities.domain.activity import Activity
from services.activities.domain.branches import Branch, MemberView
from services.activities.domain.service_log import Visit, VolunteerEntry
from services.activities.domain.teams import Membership, Team
from services.activities.domain.venue import DayBookings, Venue
from shared.messaging.repository import Collection

ACTIVITIES = "activities"
VENUES = "venues"
VENUE_DAYS = "venue_days"
VOLUNTEER_ENTRIES = "volunteer_entries"
VISITS = "visits"
BRANCHES = "branches"
MEMBERS = "members"
TEAMS = "volunteer_teams"  # issue 13: volunteer service teams (domain/teams.py)
TEAM_MEMBERS = "volunteer_team_members"  # a member's spans on a team, one document per (team, member)


def _to_doc(obj, id_field: str) -> dict:
    d = asdict(obj)
    d["_id"] = d.pop(id_field)
    return d


def _from_doc(cls, doc: dict | None, id_field: str):
    if doc is None:
        return None
    known = {f.name for f in fields(cls)}
    # Fields added later have defaults, so documents written before them still load.
    return cls(**{id_field: doc["_id"]}, **{k: v for k, v in doc.items() if k in known and k != id_field})


def activity_to_doc(a: Activity) -> dict:
    return _to_doc(a, "activity_id")


def activity_from_doc(doc: dict | None) -> Activity | None:
    return _from_doc(Activity, doc, "activity_id")


def venue_to_doc(v: Venue) -> dict:
    return _to_doc(v, "venue_id")


def venue_from_doc(doc: dict | None) -> Venue | None:
    return _from_doc(Venue, doc, "venue_id")


def day_to_doc(d: DayBookings) -> dict:
    return {"_id": d.key, **asdict(d)}


def day_from_doc(doc: dict | None) -> DayBookings | None:
    if doc is None:
        return None
    return DayBookings(doc["venue_id"], doc["day"], list(doc.get("bookings", [])))


def entry_to_doc(e: VolunteerEntry) -> dict:
    return _to_doc(e, "entry_id")


def entry_from_doc(doc: dict | None) -> VolunteerEntry | None:
    return _from_doc(VolunteerEntry, doc, "entry_id")


def visit_to_doc(v: Visit) -> dict:
    return _to_doc(v, "visit_id")


def visit_from_doc(doc: dict | None) -> Visit | None:
    return _from_doc(Visit, doc, "visit_id")


def branch_to_doc(b: Branch) -> dict:
    return _to_doc(b, "branch_id")


def branch_from_doc(doc: dict | None) -> Branch | None:
    return _from_doc(Branch, doc, "branch_id")


def member_to_doc(m: MemberView) -> dict:
    return _to_doc(m, "member_id")


def member_from_doc(doc: dict | None) -> MemberView | None:
    return _from_doc(MemberView, doc, "member_id")


def team_to_doc(t: Team) -> dict:
    return _to_doc(t, "team_id")


def team_from_doc(doc: dict | None) -> Team | None:
    return _from_doc(Team, doc, "team_id")


def membership_id(team_id: str, member_id: str) -> str:
    """`.` never occurs in an id (shared/contracts/types.py), so no two pairs share one."""
    return f"{team_id}.{member_id}"


def membership_to_doc(m: Membership) -> dict:
    return {"_id": membership_id(m.team_id, m.member_id), "team_id": m.team_id, "member_id": m.member_id,
            "spans": [dict(s) for s in m.spans]}


def membership_from_doc(doc: dict | None) -> Membership | None:
    if doc is None:
        return None
    return Membership(doc["team_id"], doc["member_id"], [dict(s) for s in doc.get("spans", [])])


ACTIVITY: Collection[Activity] = Collection(ACTIVITIES, activity_to_doc, activity_from_doc)
VENUE: Collection[Venue] = Collection(VENUES, venue_to_doc, venue_from_doc)
VENUE_DAY: Collection[DayBookings] = Collection(VENUE_DAYS, day_to_doc, day_from_doc)
VOLUNTEER_ENTRY: Collection[VolunteerEntry] = Collection(VOLUNTEER_ENTRIES, entry_to_doc, entry_from_doc)
VISIT: Collection[Visit] = Collection(VISITS, visit_to_doc, visit_from_doc)
BRANCH: Collection[Branch] = Collection(BRANCHES, branch_to_doc, branch_from_doc)
MEMBER_VIEW: Collection[MemberView] = Collection(MEMBERS, member_to_doc, member_from_doc)
TEAM: Collection[Team] = Collection(TEAMS, team_to_doc, team_from_doc)
TEAM_MEMBER: Collection[Membership] = Collection(TEAM_MEMBERS, membership_to_doc, membership_from_doc)


async def setup(db) -> None:
    await db[ACTIVITIES].create_index("branch_ids")
    await db[ACTIVITIES].create_index("held_on")
    await db[ACTIVITIES].create_index([("venue_id", 1), ("held_on", 1)])
    await db[VENUE_DAYS].create_index([("venue_id", 1), ("day", 1)])
    await db[VOLUNTEER_ENTRIES].create_index([("member_id", 1), ("on", 1)])
    await db[VISITS].create_index([("member_id", 1), ("on", 1)])
    await db[VISITS].create_index([("specialist_id", 1), ("on", 1)])  # a specialist's log (issue 13)
    await db[MEMBERS].create_index("branch_id")
    await db[TEAMS].create_index("community_id")
    await db[TEAM_MEMBERS].create_index("team_id")  # a team's roster (GET /volunteer-teams/{id})
    await move_team_rosters(db)
    await db["service_requests"].create_index([("member_id", 1), ("opened_on", 1)])  # a member's (issue 13)


async def move_team_rosters(db) -> int:
    """Teams written before the roster moved out of the team's document (its `roster` array) get
    one membership document per member, then lose the array; run at every start, it finds nothing
    once done. Idempotent and safe beside other instances: a membership is inserted only if none
    exists (one written since by a handler wins), and the team's version moves, so a handler that
    read the old document retries. Returns the teams moved."""
    moved = 0
    async for doc in db[TEAMS].find({"roster": {"$exists": True}}, {"roster": 1}):
        spans: dict[str, list[dict]] = {}
        for s in doc["roster"]:
            spans.setdefault(s["member_id"], []).append({"from": s["from"], "until": s["until"]})
        ops = [UpdateOne({"_id": membership_id(doc["_id"], m)},
                         {"$setOnInsert": {"team_id": doc["_id"], "member_id": m, "spans": ss, "_v": 1}}, upsert=True)
               for m, ss in spans.items()]
        if ops:
            try:
                await db[TEAM_MEMBERS].bulk_write(ops, ordered=False)
            except BulkWriteError as exc:  # another instance inserted the same at once: theirs stands
                if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                    raise
        result = await db[TEAMS].update_one({"_id": doc["_id"], "roster": {"$exists": True}},
                                            {"$unset": {"roster": ""}, "$inc": {"_v": 1}})
        moved += result.modified_count
    return moved


# ---- service requests and difficulties (issue 13, domain/service_requests.py) ------------------
from services.activities.domain.service_requests import MemberRequests, ServiceRequest  # noqa: E402

REQUESTS = "service_requests"
MEMBER_REQUESTS = "member_requests"  # per member: the open requests by need, so a visit opens none twice


def request_to_doc(r: ServiceRequest) -> dict:
    return _to_doc(r, "request_id")


def request_from_doc(doc: dict | None) -> ServiceRequest | None:
    return _from_doc(ServiceRequest, doc, "request_id")


def member_requests_to_doc(m: MemberRequests) -> dict:
    return _to_doc(m, "member_id")


def member_requests_from_doc(doc: dict | None) -> MemberRequests | None:
    return _from_doc(MemberRequests, doc, "member_id")


REQUEST: Collection[ServiceRequest] = Collection(REQUESTS, request_to_doc, request_from_doc)
MEMBER_REQUEST: Collection[MemberRequests] = Collection(MEMBER_REQUESTS, member_requests_to_doc,
                                                        member_requests_from_doc)


# ---- 阵地需求: what members ask for (issue 13, domain/facility_demand.py) ---------------------------
from services.activities.domain.facility_demand import FacilityDemand  # noqa: E402

FACILITY_DEMANDS = "facility_demands"


def demand_to_doc(d: FacilityDemand) -> dict:
    return _to_doc(d, "demand_id")


def demand_from_doc(doc: dict | None) -> FacilityDemand | None:
    return _from_doc(FacilityDemand, doc, "demand_id")


FACILITY_DEMAND: Collection[FacilityDemand] = Collection(FACILITY_DEMANDS, demand_to_doc, demand_from_doc)
