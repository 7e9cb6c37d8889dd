"""The organisation tree for queries: an organisation by `_id`, the branches below it by the
`ancestors` index. Read from the database on every request (no process keeps a copy: several
instances of reporting may run at once), without what queries never show (open alerts, the
changes of a branch not yet placed)."""
from services.reporting.adapters.documents import ORGS

_HIDDEN = {"open_alerts": 0, "unplaced": 0}


async def get(db, org_id: str) -> dict | None:
    return await db[ORGS].find_one({"_id": org_id}, _HIDDEN)


# What a report needs of the branches below an organisation (what they must hold).
SETTINGS = {"_id": 1, "has_committee": 1, "party_groups": 1, "merged_on": 1}


async def branches_below(db, org_id: str, fields: dict | None = None) -> list[dict]:
    """The branches below an organisation (none below a branch), by name; `fields`: only those."""
    found = await db[ORGS].find({"ancestors": org_id, "kind": "branch"}, fields or _HIDDEN).to_list(None)
    return sorted(found, key=lambda b: (b.get("name", ""), b["_id"]))


async def branches_under(db, org: dict) -> list[dict]:
    """The branches of an organisation's subtree: itself, for a branch."""
    return [org] if org["kind"] == "branch" else await branches_below(db, org["_id"])
