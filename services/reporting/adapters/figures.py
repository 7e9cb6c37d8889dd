"""Reading the precomputed figures: sums of deltas over a subtree's branches, grouped by branch.

Each query reads a few small documents per branch (one per day something changed), never the
members; FerretDB 1.24 allows `$group` with `$sum` only, which is all this needs.
"""
from services.reporting.adapters.documents import DELTAS, ORGS, delta_counters
from services.reporting.domain.contributions import DAY_SERIES
from services.reporting.domain.report import BranchSums
from shared.contracts.codes import ORG_LIFE_KINDS
from shared.periods import Period

PERIOD_FIELDS = ("active", "active_res", "due_skip", "paid", "cents", "hours", "sent", "acked", "visited",
                 *(f"held_{k}" for k in ORG_LIFE_KINDS))
DAY_FIELDS = ("reg", "away", "exempt", "exempt_res", "overdue")


async def subtree_branches(db, org: dict) -> list[dict]:
    if org["kind"] == "branch":
        return [org]
    found = await db[ORGS].find({"ancestors": org["_id"], "kind": "branch"}).to_list(None)
    return sorted(found, key=lambda b: (b["name"], b["_id"]))


async def _sum_by_branch(db, match: dict, fields: tuple[str, ...]) -> dict[str, dict[str, int]]:
    cursor = await db[DELTAS].aggregate([
        {"$match": match}, {"$unwind": "$counters"},
        {"$match": {"counters.f": {"$in": list(fields)}}},
        {"$group": {"_id": "$counters.k", "v": {"$sum": "$counters.v"}}},
    ])
    out: dict[str, dict[str, int]] = {}
    async for row in cursor:
        branch, f = row["_id"].rsplit("|", 1)
        out.setdefault(branch, {})[f] = int(row["v"])
    return out


def up_to(day: str, since_month: str | None = None) -> dict:
    """Deltas of every day ≤ `day` (from `since_month` on), read from the coarsest documents:
    past years, then past months of this year, then the days of this month."""
    year, month = day[:4], day[:7]
    if since_month is not None:
        return {"$or": [{"grain": "m", "day": {"$gte": since_month, "$lt": month}},
                        {"grain": "d", "day": {"$gte": month, "$lte": day}}]}
    return {"$or": [{"grain": "y", "day": {"$lt": year}}, {"grain": "m", "day": {"$gte": year, "$lt": month}},
                    {"grain": "d", "day": {"$gte": month, "$lte": day}}]}


async def branch_sums(db, branches: list[dict], period: Period, day: str) -> list[BranchSums]:
    ids = [b["_id"] for b in branches]
    statuses = await _sum_by_branch(db, {"branch": {"$in": ids}, "series": DAY_SERIES, **up_to(day)}, DAY_FIELDS)
    deaths = {}
    if day >= period.start.isoformat():
        deaths = await _sum_by_branch(db, {"branch": {"$in": ids}, "series": DAY_SERIES,
                                           **up_to(day, since_month=period.start.isoformat()[:7])}, ("died",))
    counters = await _sum_by_branch(db, {"branch": {"$in": ids}, "series": period.text, **up_to(day)},
                                    PERIOD_FIELDS)
    start = period.start.isoformat()
    return [BranchSums(b["_id"], b.get("has_committee", False), b.get("party_groups", 0),
                       statuses.get(b["_id"], {}), deaths.get(b["_id"], {}).get("died", 0),
                       counters.get(b["_id"], {}), merged=bool(b.get("merged_on") and b["merged_on"] <= start))
            for b in branches]


async def registered_history(db, branch_id: str, day: str) -> list[tuple[str, int]]:
    """(day, registered members from that day) for each change up to `day`."""
    out, total = [], 0
    async for row in db[DELTAS].find({"branch": branch_id, "series": DAY_SERIES, "grain": "d", "day": {"$lte": day}},
                                     {"day": 1, "counters": 1}).sort("day", 1):
        change = delta_counters(row).get("reg", 0)
        if change:
            total += change
            out.append((row["day"], total))
    return out
