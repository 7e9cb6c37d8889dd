"""阵地需求 (issue 13, item 8): an activity members of a community ask for (乒乓球、羽毛球、游泳…), by one
member or as a count gathered at once. Recorded once per `demand_id`; which venues offer it, and so
the gaps, are reporting's to work out (it knows the organisation tree).
"""
from dataclasses import dataclass

from shared.errors import duplicate, invalid
from shared.rules.facilities import FACILITY_ACTIVITIES


@dataclass
class FacilityDemand:
    demand_id: str
    community_id: str
    activity: str
    on: str
    member_id: str | None = None
    count: int = 1
    source: str = "member"
    note: str | None = None


def record(existing: FacilityDemand | None, *, demand_id: str, community_id: str, activity: str, on: str,
           member_id: str | None, count: int, source: str, note: str | None) -> FacilityDemand:
    if existing is not None:
        raise duplicate(f"facility demand {demand_id} is already recorded", "data.demand_id")
    if activity not in FACILITY_ACTIVITIES:
        raise invalid(f"unknown activity {activity!r}", "data.activity")
    if count < 1:
        raise invalid("count must be at least 1", "data.count")
    if member_id is not None and count != 1:
        raise invalid("a demand naming a member counts that one member (count 1)", "data.count")
    return FacilityDemand(demand_id, community_id, activity, on, member_id, count, source, note)
