"""Read-side queries over activities' collections (indexed finds and aggregations)."""
from typing import Any

from services.activities.adapters.documents import (
    ACTIVITIES, BRANCHES, MEMBERS, TEAM_MEMBERS, TEAMS, VENUES, VISITS, membership_from_doc, team_from_doc,
)
from shared.messaging.unit_of_work import VERSION
from shared.periods import Period


def activity_filter(*, branch_id: str | None = None, period: Period | None = None, kind: str | None = None,
                    status: str | None = None, venue_id: str | None = None) -> dict[str, Any]:
    q: dict[str, Any] = {}
    if branch_id:
        q["branch_ids"] = branch_id
    if period:
        q["held_on"] = {"$gte": period.start.isoformat(), "$lte": period.end.isoformat()}
    if kind:
        q["kind"] = kind
    if status:
        q["status"] = status
    if venue_id:
        q["venue_id"] = venue_id
    return q


async def find_activities(db, query: dict, *, skip: int = 0, limit: int = 0) -> list[dict]:
    cursor = db[ACTIVITIES].find(query).sort([("starts_utc", 1), ("_id", 1)]).skip(skip)
    if limit:
        cursor = cursor.limit(limit)
    return await cursor.to_list(None)


async def count_activities(db, query: dict) -> int:
    return await db[ACTIVITIES].count_documents(query)


async def activity(db, activity_id: str) -> dict | None:
    return await db[ACTIVITIES].find_one({"_id": activity_id})


async def branch(db, branch_id: str) -> dict | None:
    return await db[BRANCHES].find_one({"_id": branch_id})


async def venue(db, venue_id: str) -> dict | None:
    return await db[VENUES].find_one({"_id": venue_id})


async def member_names(db, member_ids: list[str]) -> dict[str, str]:
    if not member_ids:
        return {}
    return {d["_id"]: d.get("name", "") async for d in db[MEMBERS].find({"_id": {"$in": member_ids}})}


async def branch_paths(db, branch_ids: list[str]) -> dict[str, list[str]]:
    """Each branch's place in the tree (district … branch); a branch not heard of yet is only itself."""
    known = {d["_id"]: [*d.get("ancestors", []), d["_id"]]
             async for d in db[BRANCHES].find({"_id": {"$in": branch_ids}}, {"ancestors": 1})}
    return {b: known.get(b, [b]) for b in branch_ids}


async def branches_under(db, roots: list[str]) -> list[str]:
    """The ids of the branches in the subtrees of these organisations (a root may be a branch)."""
    return [d["_id"] async for d in db[BRANCHES].find(
        {"$or": [{"_id": {"$in": roots}}, {"ancestors": {"$in": roots}}]}, {"_id": 1})]


async def org_path(db, org_id: str) -> list[str]:
    """An organisation's place in the tree, told by a branch at or below it (activities keeps only
    branches); an organisation with no branch known below it is only itself."""
    return await known_org_path(db, org_id) or [org_id]


async def known_org_path(db, org_id: str) -> list[str] | None:
    """As `org_path`, but None for an organisation with no branch known at or below it."""
    doc = await db[BRANCHES].find_one({"$or": [{"_id": org_id}, {"ancestors": org_id}]}, {"ancestors": 1})
    if doc is None:
        return None
    if doc["_id"] == org_id:
        return [*doc.get("ancestors", []), org_id]
    ancestors = doc["ancestors"]
    return ancestors[:ancestors.index(org_id) + 1]


async def member_view(db, member_id: str) -> dict | None:
    """What activities knows of a member: their branch and name."""
    return await db[MEMBERS].find_one({"_id": member_id}, {"branch_id": 1, "name": 1})


async def member_branches(db, member_ids: list[str]) -> dict[str, str | None]:
    return {d["_id"]: d.get("branch_id") async for d in db[MEMBERS].find({"_id": {"$in": member_ids}}, {"branch_id": 1})}


async def members_of_branches(db, branch_ids: list[str]) -> list[str]:
    return [d["_id"] async for d in db[MEMBERS].find({"branch_id": {"$in": branch_ids}}, {"_id": 1})]


async def visits(db, query: dict[str, Any], limit: int = 0) -> list[dict]:
    """Visits, newest first."""
    cursor = db[VISITS].find(query, {VERSION: 0}).sort([("on", -1), ("_id", 1)])
    if limit:
        cursor = cursor.limit(limit)
    return await cursor.to_list(None)


async def team(db, team_id: str):
    return team_from_doc(await db[TEAMS].find_one({"_id": team_id}))


async def team_memberships(db, team_id: str) -> list:
    return [membership_from_doc(d) async for d in db[TEAM_MEMBERS].find({"team_id": team_id})]
