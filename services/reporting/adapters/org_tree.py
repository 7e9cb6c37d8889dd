"""The organisation tree for queries: an organisation by `_id`, the branches below it by the
`ancestors` index. Read from the database on every request (no process keeps a copy: several
instances of reporting may run at once), without what queries never show (open alerts, the
changes of a branch not yet placed)."""
from services.reporting.adapters.documents import ORGS

_HIDDEN = {"open_alerts": 0, "unplaced": 0}


async def get(db, org_id: str) -> dict | None:
    return await db[ORGS].find_one({"_id": org_id}, _HIDDEN)


# What a report needs of its organisation and of the branches below it (what they must hold).
REPORT_FIELDS = {"name": 1, "kind": 1, "stars": 1, "has_committee": 1, "party_groups": 1, "merged_on": 1}


async def with_branches(db, org_id: str, fields: dict) -> tuple[dict | None, list[dict]]:
    """An organisation and the branches below it, in one query (the `_id` and `ancestors`
    indexes); the branches by name."""
    found = await db[ORGS].find({"$or": [{"_id": org_id}, {"ancestors": org_id, "kind": "branch"}]},
                                fields).to_list(None)
    org = next((o for o in found if o["_id"] == org_id), None)
    below = sorted((o for o in found if o["_id"] != org_id), key=lambda b: (b.get("name", ""), b["_id"]))
    return org, below


async def branches_below(db, org_id: str, fields: dict | None = None) -> list[dict]:
    """The branches below an organisation (none below a branch), by name; `fields`: only those."""
    found = await db[ORGS].find({"ancestors": org_id, "kind": "branch"}, fields or _HIDDEN).to_list(None)
    return sorted(found, key=lambda b: (b.get("name", ""), b["_id"]))


async def branches_under(db, org: dict) -> list[dict]:
    """The branches of an organisation's subtree: itself, for a branch."""
    return [org] if org["kind"] == "branch" else await branches_below(db, org["_id"])
