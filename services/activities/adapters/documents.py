"""Activities' collections and their mapping to domain objects.

activities · venues · venue_days (bookings per venue and day) · volunteer_entries · visits ·
branches and members (projections of members.events, written only by the members-events pipeline).
"""
from dataclasses import asdict, fields

from services.activities.domain.activity import Activity
from services.activities.domain.branches import Branch, MemberView
from services.activities.domain.service_log import Visit, VolunteerEntry
from services.activities.domain.venue import DayBookings, Venue

ACTIVITIES = "activities"
VENUES = "venues"
VENUE_DAYS = "venue_days"
VOLUNTEER_ENTRIES = "volunteer_entries"
VISITS = "visits"
BRANCHES = "branches"
MEMBERS = "members"


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


def day_from_doc(doc: dict | None, venue_id: str, day: str) -> DayBookings:
    if doc is None:
        return DayBookings(venue_id, day)
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


async def setup(db) -> None:
    await db[ACTIVITIES].create_index("branch_ids")
    await db[ACTIVITIES].create_index("held_on")
    await db[ACTIVITIES].create_index([("venue_id", 1), ("held_on", 1)])
    await db[VENUE_DAYS].create_index([("venue_id", 1), ("day", 1)])
    await db[VOLUNTEER_ENTRIES].create_index([("member_id", 1), ("on", 1)])
    await db[VISITS].create_index([("member_id", 1), ("on", 1)])
    await db[MEMBERS].create_index("branch_id")
