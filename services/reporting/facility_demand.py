"""Reporting's service layer for 阵地需求 (issue 13, item 8): the demand recorded in activities and the
venues with their facilities, one document each (domain/facility_gaps.py); read by
facility_queries.py. No alert is raised on them.

`build_handlers` is part of reporting's one table (`handlers.build_handlers`).
"""
from shared.contracts import activities as a
from shared.contracts import facility_demand as c
from shared.messaging.pipeline import Context, Handler

DEMANDS = "facility_demands"
VENUES = "venues"


def build_handlers() -> dict[str, Handler]:
    async def demand(e: c.FacilityDemandRecorded, ctx: Context) -> None:
        ctx.put(DEMANDS, {"_id": e.demand_id, "community_id": e.community_id, "activity": e.activity,
                          "on": e.on.isoformat(), "member_id": e.member_id, "count": e.count, "source": e.source})

    async def venue(e: a.VenueRegistered, ctx: Context) -> None:
        ctx.put(VENUES, {"_id": e.venue_id, "name": e.name, "org_id": e.org_id, "capacity": e.capacity,
                         "facilities": list(e.facilities)})

    return {
        "FacilityDemandRecorded": Handler(demand, lambda e: [(DEMANDS, e.demand_id)]),
        "VenueRegistered": Handler(venue, lambda e: [(VENUES, e.venue_id)]),
    }
