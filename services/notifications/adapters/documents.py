"""Notifications' collections and their mapping (dates and instants as ISO strings, codes not labels).

Each collection with a domain type is declared once as a typed `Collection` (NOTICE, MEMBER,
DELIVERY): handlers use `ctx.repo(DELIVERY).get(id)`. The names (`NOTICES`…) serve queries, HTTP
routes and the handlers' `wants`. `orgs`, `notice_index` and `feedback` are plain documents. Documents
read from the database carry the unit of work's version `_v`: the mappings read only their own fields.
"""
import copy
from dataclasses import asdict, fields

from services.notifications.domain.delivery import Attempt, Delivery
from services.notifications.domain.notice import Notice
from services.notifications.domain.recipients import Member
from shared.messaging.repository import Collection
from shared.messaging.tally import Tally

NOTICES = "notices"
# The org tree as this service needs it: {_id, kind, ancestors, secretary_id, branches: the
# branch ids of its subtree, members: (branches only) every member who has ever belonged to it,
# notice_months: the months of `notice_index` documents naming it}.
ORGS = "orgs"
MEMBERS = "members"
# One document per (notice, member): the proof of delivery, with every attempt.
DELIVERIES = "deliveries"
FEEDBACK = "feedback"
# Notices by audience org and month: {_id: "<org>|<YYYY-MM>", org, month, notices: {notice_id:
# {day, until}}}, the month being that of `until` (the notice's open_until day). A member's late
# fact, recorded on day R, looks up the documents of the orgs on its paths from R's month on:
# read by id, no scan (handlers.py, "late facts").
NOTICE_INDEX = "notice_index"
# A notice's recipients counted by state, per branch: {_id: "<notice>|<branch>", notice_id,
# branch_id, recipients, reached, acknowledged, state: {<state>: n}}, kept by the database in step
# with `deliveries` (DELIVERY_TALLY): a notice's status sums a few of them instead of counting
# 100,000 deliveries.
NOTICE_TALLIES = "notice_tallies"
# Reporting's alerts as far as reminders go, and the reminders waiting for their alert to stand
# (domain/alert_reminders.py): {_id: alert_id, open, as_of, pending, reminded, remind_at}.
ALERTS = "alerts"


def delivery_id(notice_id: str, member_id: str) -> str:
    return f"{notice_id}|{member_id}"


def index_id(org_id: str, month: str) -> str:
    return f"{org_id}|{month}"


def notice_to_doc(n: Notice) -> dict:
    # Field by field rather than `asdict`: a notice is staged again for every member a late fact
    # adds to it, and `asdict` copied its recipients (a list of ids) one element at a time, a
    # twentieth of the service's time in the end-to-end benchmark. The lists hold strings, so a
    # copy of each list is a copy of its content; `audience` is copied whole.
    d = {f.name: getattr(n, f.name) for f in fields(Notice)}
    d["recipients"], d["to_address"], d["audience"] = list(n.recipients), list(n.to_address), copy.deepcopy(n.audience)
    d["_id"] = d.pop("notice_id")
    return d


def notice_from_doc(doc: dict | None) -> Notice | None:
    if doc is None:
        return None
    return Notice(notice_id=doc["_id"], **_known(Notice, doc, "notice_id"))


def member_to_doc(m: Member) -> dict:
    d = asdict(m)
    d["_id"] = d.pop("member_id")
    return d


def member_from_doc(doc: dict | None) -> Member | None:
    if doc is None:
        return None
    if "registered" not in doc and doc.get("branch_id"):
        doc = _dated(doc)
    return Member(member_id=doc["_id"], **_known(Member, doc, "member_id"))


def _dated(doc: dict) -> dict:
    """A member stored in the earlier format (a status, not dated facts): its facts as well as
    they can be told, all as recorded on the registration day; a death or departure, undated
    there, counts from then (it was recorded before any notice still to come)."""
    day = doc.get("registered_on") or "0001-01-01"
    path = doc.get("ancestors") or [doc["branch_id"]]
    gone = {"recorded": day, "on": day} if doc.get("status") in ("deceased", "transferred") else None
    return {**doc, "registered": [{"recorded": day, "on": day}],
            "branch": {"branch_id": doc["branch_id"], "path": path},
            "died": gone if doc.get("status") == "deceased" else None,
            "transfers": [{**gone, "to_branch_id": None, "path": []}] if doc.get("status") == "transferred" else [],
            "away": [{"recorded": day, "from": doc["away_from"], "until": doc.get("away_until")}]
            if doc.get("away_from") else [],
            "contacts": [{"recorded": day, **{k: doc.get(k) for k in ("phone", "wechat_openid", "email")},
                          "preferred_channel": doc.get("preferred_channel") or "door"}],
            "specialists": [{"recorded": day, "specialist_id": doc["specialist_id"],
                             "specialist_name": doc.get("specialist_name")}] if doc.get("specialist_id") else []}


_DELIVERY_FIELDS = [f.name for f in fields(Delivery)]


def delivery_to_doc(d: Delivery) -> dict:
    # By hand, not `asdict`: the worker writes thousands of these a minute, and asdict's recursive
    # copy cost more than the rest of the claim. Containers are copied one level down (their
    # values are plain), so the document never shares a list or dict with the object.
    doc = {name: getattr(d, name) for name in _DELIVERY_FIELDS}
    doc["plan"] = list(d.plan)
    doc["attempts"] = [dict(vars(a)) for a in d.attempts]
    doc["contacts"] = dict(d.contacts)
    for name in ("door", "acknowledged"):
        if doc[name] is not None:
            doc[name] = copy.deepcopy(doc[name])
    doc["_id"] = delivery_id(d.notice_id, d.member_id)
    doc["channel"] = d.channel  # the current channel, for queries
    return doc


def delivery_from_doc(doc: dict | None) -> Delivery | None:
    if doc is None:
        return None
    values = _known(Delivery, doc)
    values["attempts"] = [Attempt(**a) for a in values.get("attempts", [])]
    return Delivery(**values)


def org_doc(org_id: str) -> dict:
    return {"_id": org_id, "kind": None, "name": None, "ancestors": [], "secretary_id": None,
            "branches": [], "members": [], "notice_months": []}


def _known(cls, doc: dict, *skip: str) -> dict:
    names = {f.name for f in fields(cls)} - set(skip)
    return {k: v for k, v in doc.items() if k in names}


NOTICE: Collection[Notice] = Collection(NOTICES, notice_to_doc, notice_from_doc)
MEMBER: Collection[Member] = Collection(MEMBERS, member_to_doc, member_from_doc)
DELIVERY: Collection[Delivery] = Collection(DELIVERIES, delivery_to_doc, delivery_from_doc)


def delivery_counts(doc: dict) -> dict[str, dict[str, int]]:
    """What one delivery counts for in its notice's status: a recipient in a state, reached (an
    attempt delivered, or the door task done), acknowledged."""
    reached = doc.get("state") == "door_done" or any(a.get("state") == "delivered" for a in doc.get("attempts") or ())
    counts = {"recipients": 1, f"state.{doc['state']}": 1}
    if reached:
        counts["reached"] = 1
    if doc.get("acknowledged"):
        counts["acknowledged"] = 1
    return {f"{doc['notice_id']}|{doc.get('branch_id') or ''}": counts}


# Eight documents a notice and branch: the delivery worker's claims and records and the pipelines'
# settling and acknowledgements change the same notice's counts at once (shared/messaging/tally.py).
DELIVERY_TALLY = Tally(DELIVERIES, NOTICE_TALLIES, delivery_counts,
                       lambda doc: {"notice_id": doc["notice_id"], "branch_id": doc.get("branch_id")}, shards=8)
TALLY_KEYS = ("notice_id", "branch_id")


async def setup(db) -> None:
    await db[NOTICE_TALLIES].create_index([("notice_id", 1), ("branch_id", 1)])
    await db[NOTICES].create_index("category")
    await db[NOTICES].create_index("to_address")  # large notices still being addressed (handlers.ADDRESS_PAGE)
    await db[DELIVERIES].create_index([("state", 1), ("next_at", 1)])
    # A notice's recipients a page at a time, by branch (queries.deliveries_page), and in a subtree.
    # Each index is written at every delivery's insert: (notice_id, member_id), which paged them
    # before the branches did, went unread, and is dropped where an earlier version made it.
    await _drop_index(db[DELIVERIES], "notice_id_1_member_id_1")
    await db[DELIVERIES].create_index([("notice_id", 1), ("branch_id", 1), ("member_id", 1)])
    await db[DELIVERIES].create_index([("notice_id", 1), ("state", 1), ("branch_id", 1), ("member_id", 1)])  # …in a state
    # A specialist's door deliveries still to do, oldest assignment first (queries.door_work): only
    # those are in it, not every delivery that names a specialist (most of them, none at the door).
    await _drop_index(db[DELIVERIES], "specialist_id_1_state_1")
    await db[DELIVERIES].create_index([("specialist_id", 1), ("door.assigned_at", 1), ("_id", 1)],
                                      partialFilterExpression={"state": "door_assigned"})
    await db[MEMBERS].create_index("specialist_id")
    await db[FEEDBACK].create_index([("ancestors", 1), ("on", 1)])
    await db[ALERTS].create_index("remind_at")  # the reminders due, for the delivery worker


async def _drop_index(coll, name: str) -> None:
    if name in await coll.index_information():
        await coll.drop_index(name)
