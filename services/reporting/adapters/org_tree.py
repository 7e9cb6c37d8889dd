"""The organisation tree for queries: an organisation by `_id`, the branches below it by the
`ancestors` index. Read from the database on every request (no process keeps a copy: several
instances of reporting may run at once), without what queries never show (open alerts, the
changes of a branch not yet placed)."""
from services.reporting.adapters.documents import ORGS

_HIDDEN = {"open_alerts": 0, "unplaced": 0, "counted": 0}


async def get(db, org_id: str) -> dict | None:
    return await db[ORGS].find_one({"_id": org_id}, _HIDDEN)


async def branches_below(db, org_id: str) -> list[dict]:
    """The branches below an organisation (none below a branch), by name."""
    found = await db[ORGS].find({"ancestors": org_id, "kind": "branch"}, _HIDDEN).to_list(None)
    return sorted(found, key=lambda b: (b.get("name", ""), b["_id"]))


async def children(db, org_id: str) -> list[dict]:
    """The organisations directly below one (index `parent_id`), by name."""
    found = await db[ORGS].find({"parent_id": org_id}, _HIDDEN).to_list(None)
    return sorted(found, key=lambda o: (o.get("name", ""), o["_id"]))


async def branches_under(db, org: dict) -> list[dict]:
    """The branches of an organisation's subtree: itself, for a branch."""
    return [org] if org["kind"] == "branch" else await branches_below(db, org["_id"])


async def path(db, org_id: str) -> list[str] | None:
    """An organisation's place in the tree (district … itself), None when it is not known."""
    doc = await db[ORGS].find_one({"_id": org_id}, {"ancestors": 1})
    return None if doc is None else [*doc.get("ancestors", []), org_id]


async def paths(db, org_ids) -> dict[str, list[str]]:
    """The places of several organisations in one read; one not known is placed as itself."""
    ids = sorted(set(org_ids))
    found = {d["_id"]: [*d.get("ancestors", []), d["_id"]]
             async for d in db[ORGS].find({"_id": {"$in": ids}}, {"ancestors": 1})}
    return {i: found.get(i, [i]) for i in ids}


async def subtree_ids(db, roots: list[str]) -> set[str]:
    """The organisations at or below these (a caller's scope)."""
    return {d["_id"] async for d in db[ORGS].find({"$or": [{"_id": {"$in": roots}}, {"ancestors": {"$in": roots}}]},
                                                  {"_id": 1})}
