"""Read-side queries over notifications' collections (indexed finds), for the HTTP routes and the
placing of commands (entrypoints/command_scope.py).

Scope, masking and how a record is shown stay with the routes; these only read.
"""
import asyncio

from services.notifications.adapters.documents import (
    DELIVERIES, FEEDBACK, MEMBERS, NOTICE_TALLIES, NOTICES, ORGS, TALLY_KEYS, member_from_doc,
)
from shared.messaging.tally import merged


async def org(db, org_id: str) -> dict | None:
    """An established organisation (known only as the place of a member so far: None)."""
    doc = await db[ORGS].find_one({"_id": org_id})
    return None if doc is None or doc.get("kind") is None else doc


async def org_path(db, org_id: str) -> list[str] | None:
    """An established organisation's path (district … itself); None when it is not known (or only
    as the place of a member so far)."""
    doc = await db[ORGS].find_one({"_id": org_id}, {"kind": 1, "ancestors": 1})
    if doc is None or doc.get("kind") is None:
        return None
    return [*doc.get("ancestors", []), org_id]


async def branches_under(db, roots: list[str]) -> set[str]:
    """The branches in the subtrees of these organisations (a root may be a branch)."""
    return {o["_id"] async for o in db[ORGS].find(
        {"kind": "branch", "$or": [{"_id": {"$in": roots}}, {"ancestors": {"$in": roots}}]}, {"_id": 1})}


async def branch_paths(db, branch_ids: set[str]) -> dict[str, list[str]]:
    """Each branch's place in the tree; a branch not heard of yet is only itself."""
    known = {o["_id"]: [*o.get("ancestors", []), o["_id"]]
             async for o in db[ORGS].find({"_id": {"$in": list(branch_ids)}}, {"ancestors": 1})}
    return {b: known.get(b, [b]) for b in branch_ids}


async def branches(db, branch_ids: list[str]) -> list[dict]:
    return await db[ORGS].find({"_id": {"$in": branch_ids}}).to_list(None)


async def notice(db, notice_id: str) -> dict | None:
    return await db[NOTICES].find_one({"_id": notice_id})


async def notice_titles(db, notice_ids: set[str]) -> dict[str, str]:
    return {n["_id"]: n["title"] async for n in db[NOTICES].find({"_id": {"$in": list(notice_ids)}}, {"title": 1})}


async def reaches_branches(db, notice_id: str, branch_ids: set[str]) -> bool:
    """Whether the notice has a delivery to a member of one of these branches."""
    return await db[DELIVERIES].find_one({"notice_id": notice_id, "branch_id": {"$in": list(branch_ids)}},
                                         {"_id": 1}) is not None


async def any_member_in(db, member_ids: list[str], branch_ids: set[str]) -> bool:
    return await db[MEMBERS].find_one({"_id": {"$in": member_ids}, "branch_id": {"$in": list(branch_ids)}},
                                      {"_id": 1}) is not None


async def recipients_in(db, notice_id: str, branch_ids: set[str]) -> set[str]:
    """The notice's recipients who are members of these branches."""
    return {d["member_id"] async for d in db[DELIVERIES].find(
        {"notice_id": notice_id, "branch_id": {"$in": list(branch_ids)}}, {"member_id": 1})}


async def member_names(db, member_ids: list[str]) -> dict[str, str | None]:
    return {m["_id"]: m.get("name") async for m in db[MEMBERS].find({"_id": {"$in": member_ids}}, {"name": 1})}


async def members(db, member_ids: list[str]) -> dict[str, dict]:
    return {m["_id"]: m async for m in db[MEMBERS].find({"_id": {"$in": member_ids}})}


async def each_member(db, member_ids: list[str]):
    """These members (as the domain's records), by id, one at a time (a district's are not held at once)."""
    async for m in db[MEMBERS].find({"_id": {"$in": member_ids}}).sort("_id", 1).batch_size(1_000):
        yield member_from_doc(m)


async def has_members_of_specialist(db, specialist_id: str, branch_ids: set[str] | None) -> bool:
    query: dict = {"specialist_id": specialist_id}
    if branch_ids is not None:
        query["branch_id"] = {"$in": list(branch_ids)}
    return await db[MEMBERS].find_one(query, {"_id": 1}) is not None


async def tallies(db, notice_id: str, branch_ids: set[str] | None) -> list[dict]:
    """The notice's tallies (one per branch, its shards summed) in these branches (None: every
    one), by branch."""
    query: dict = {"notice_id": notice_id}
    if branch_ids is not None:
        query["branch_id"] = {"$in": list(branch_ids)}
    docs = await db[NOTICE_TALLIES].find(query).to_list(None)
    return sorted(merged(docs, TALLY_KEYS), key=lambda t: t.get("branch_id") or "")


async def deliveries_page(db, notice_id: str, tallies: list[dict], state: str | None,
                          after: tuple[str, str] | None, n: int) -> list[dict]:
    """Up to n deliveries after (branch, member), in (branch, member) order: one query per branch
    (an equality on the index's prefix), for the branches that the tallies say hold the next n. A
    query's index range stays that of one branch: SecantusDB reads the whole range a query's bounds
    allow before it applies the limit, and plans `$in` over branches badly (docs/secantusdb.md);
    on MongoDB the same queries cost the same."""
    after_branch, after_member = after or (None, None)
    match: dict = {"notice_id": notice_id, **({"state": state} if state else {})}
    wanted: list[tuple[str | None, str | None]] = []  # (branch, after this member)
    counted = 0
    for t in tallies:
        branch = t.get("branch_id") or ""
        if after is not None and branch < after_branch:
            continue
        count = (t.get("state") or {}).get(state, 0) if state else t.get("recipients", 0)
        if count > 0:
            rest_of_last = after is not None and branch == after_branch
            wanted.append((t.get("branch_id"), after_member if rest_of_last else None))
            counted += 0 if rest_of_last else count  # how much of it is left is not known
        if counted >= n:
            break

    async def of_branch(branch: str | None, after_member: str | None) -> list[dict]:
        query = {**match, "branch_id": branch, **({"member_id": {"$gt": after_member}} if after_member else {})}
        return await db[DELIVERIES].find(query).sort("member_id", 1).limit(n).to_list(None)

    out: list[dict] = []
    for part in await asyncio.gather(*(of_branch(b, m) for b, m in wanted)):
        out += part
    return out[:n]


async def door_work(db, specialist_id: str, branch_ids: set[str] | None, skip: int, limit: int) -> tuple[list[dict], int]:
    """A page of a specialist's door deliveries still to do (in these branches; None: every one),
    oldest assignment first, and how many there are."""
    query: dict = {"specialist_id": specialist_id, "state": "door_assigned"}
    if branch_ids is not None:
        query["branch_id"] = {"$in": list(branch_ids)}
    docs = await (db[DELIVERIES].find(query).sort([("door.assigned_at", 1), ("_id", 1)])
                  .skip(skip).limit(limit).to_list(None))
    return docs, await db[DELIVERIES].count_documents(query)


async def feedback(db, org_id: str, first_day: str, last_day: str, skip: int, limit: int) -> tuple[list[dict], int]:
    """A page of the feedback given in an organisation's subtree between two days, and how much."""
    query = {"ancestors": org_id, "on": {"$gte": first_day, "$lte": last_day}}
    docs = await db[FEEDBACK].find(query).sort([("on", 1), ("_id", 1)]).skip(skip).limit(limit).to_list(None)
    return docs, await db[FEEDBACK].count_documents(query)
