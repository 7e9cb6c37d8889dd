"""Read side of 阵地需求 (issue 13, item 8): for the communities of an organisation's subtree (for a
branch: its community), what members ask for against what the venues offer, and the gaps
(domain/facility_gaps.py). Counts only: no member is named."""
from services.reporting import queries
from services.reporting.adapters.documents import ORGS
from services.reporting.domain import facility_gaps as dom
from services.reporting.facility_demand import DEMANDS, VENUES


async def _communities(db, o: dict) -> dict[str, str | None]:
    if o["kind"] == "branch":
        ids = [o["parent_id"]] if o.get("parent_id") else []
    elif o["kind"] == "community":
        ids = [o["_id"]]
    else:
        ids = [d["_id"] async for d in db[ORGS].find({"ancestors": o["_id"], "kind": "community"}, {"_id": 1})]
    return {d["_id"]: d.get("name") async for d in db[ORGS].find({"_id": {"$in": ids}}, {"name": 1})}


async def facility_gaps(db, org_id: str, day: str) -> dict:
    o = await queries.org(db, org_id)
    communities = await _communities(db, o)
    ids = sorted(communities)
    demands = await db[DEMANDS].find({"community_id": {"$in": ids}}).to_list(None)
    venues = await db[VENUES].find({"org_id": {"$in": ids}}).to_list(None)
    return {"org_id": org_id, "as_of": day, **dom.gaps(communities, demands, venues, day)}
