"""Read-side queries over members' collections (indexed finds), for the HTTP routes.

Scope, masking and how a record is shown stay with the routes and the domain; these only read.
"""
from typing import Any

from services.members.adapters.documents import AUDIT, MEMBERS, ORGS, PAYMENTS, TRAININGS, VISIT_LOG
from shared.messaging.unit_of_work import VERSION

# A member list's order: by name, then id (a name may be shared); `members_page` sorts the same
# way in the database (index `org_path, name, _id`), byte order of UTF-8 being code point order.
MEMBER_ORDER = [("name", 1), ("_id", 1)]


async def org(db, org_id: str) -> dict | None:
    return await db[ORGS].find_one({"_id": org_id})


async def children(db, org_id: str) -> list[dict]:
    return await db[ORGS].find({"parent_id": org_id}).sort("_id", 1).to_list(None)


async def member(db, member_id: str) -> dict | None:
    return await db[MEMBERS].find_one({"_id": member_id})


async def names(db, member_ids: set[str] | list[str]) -> dict[str, str | None]:
    return {d["_id"]: d.get("name") async for d in db[MEMBERS].find({"_id": {"$in": sorted(member_ids)}}, {"name": 1})}


def each_member(db, query: dict[str, Any]):
    """Every member the query finds, in list order, one at a time (a district's are not held at once)."""
    return db[MEMBERS].find(query).sort(MEMBER_ORDER).batch_size(1_000)


async def members_page(db, query: dict[str, Any], skip: int, limit: int) -> tuple[list[dict], int]:
    """One page of the members the query finds, in list order, and how many it finds."""
    docs = await db[MEMBERS].find(query).sort(MEMBER_ORDER).skip(skip).limit(limit).to_list(None)
    if 0 < len(docs) < limit or (not docs and not skip):  # the last page: no need to count
        return docs, skip + len(docs)
    return docs, await db[MEMBERS].count_documents(query)


async def secretary_trainings(db, member_id: str) -> list[dict]:
    doc = await db[MEMBERS].find_one({"_id": member_id}, {"trainings": 1})
    return (doc or {}).get("trainings", [])


async def payments(db, member_id: str) -> list[dict]:
    """A member's dues payments, as recorded (without the unit of work's fields)."""
    found = await db[PAYMENTS].find({"member_id": member_id}).to_list(None)
    for p in found:
        p.pop("_id", None)
        p.pop(VERSION, None)
    return found


async def visit_log(db, member_id: str) -> dict | None:
    return await db[VISIT_LOG].find_one({"_id": member_id})


async def trail(db, subject_id: str, order: str, skip: int, limit: int) -> tuple[list[dict], int]:
    """A page of the audit entries of a member or an organisation, oldest first (or newest with
    `order="desc"`), and how many there are."""
    direction = 1 if order == "asc" else -1
    docs = await (db[AUDIT].find({"subject_id": subject_id}).sort([("at", direction), ("_id", direction)])
                  .skip(skip).limit(limit).to_list(None))
    return docs, await db[AUDIT].count_documents({"subject_id": subject_id})


async def training(db, session_id: str) -> dict | None:
    return await db[TRAININGS].find_one({"_id": session_id}, {VERSION: 0})


async def attendees(db, member_ids: list[str]) -> list[dict]:
    return await db[MEMBERS].find({"_id": {"$in": member_ids}}, {"name": 1, "branch_id": 1, "org_path": 1}).to_list(None)


async def org_path_of(db, org_id: str | None) -> list[str] | None:
    """An organisation's place in the tree (district … itself); None when it is not known."""
    doc = await db[ORGS].find_one({"_id": org_id}, {"ancestors": 1}) if org_id else None
    return None if doc is None else [*doc.get("ancestors", []), doc["_id"]]
