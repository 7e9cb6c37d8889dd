"""End to end (issue 13, item 8, 阵地需求): venues registered and demand recorded on Kafka in activities,
the gaps per community read from reporting over HTTP."""
import pytest

from tests.e2e.issue13.support import answered, district_with_members, envelope, reads, uid
from tests.support import auth

pytestmark = pytest.mark.e2e


async def test_demand_against_the_venues_and_the_gaps(platform, bus):
    ids, (m1, m2) = await district_with_members(bus, 2)
    community = ids["community"]
    venue = envelope("RegisterVenue", {"venue_id": uid("v"), "name": "天鹅湖党群服务中心", "org_id": community,
                                       "capacity": 60, "facilities": ["投影仪", "乒乓球台", "报刊架"]})
    asks = [envelope("RecordFacilityDemand", {"demand_id": uid("fd"), "community_id": community, **d})
            for d in ({"activity": "table_tennis", "on": "2025-04-01", "member_id": m1},
                      {"activity": "badminton", "on": "2025-04-01", "member_id": m1},
                      {"activity": "badminton", "on": "2025-04-02", "member_id": m2},
                      {"activity": "swimming", "on": "2025-04-10", "count": 12, "source": "survey"})]
    bad = envelope("RecordFacilityDemand", {"demand_id": uid("fd"), "community_id": community,
                                            "activity": "swimming", "on": "2025-04-10", "member_id": m2, "count": 3})
    events = await answered(bus, "activities.events", venue, *asks)
    assert [e["type"] for e in events] == ["VenueRegistered"] + ["FacilityDemandRecorded"] * 4
    [rejected] = await answered(bus, "activities.events", bad)
    assert (rejected["type"], rejected["data"]["reason"]) == ("CommandRejected", "invalid")
    [again] = await answered(bus, "activities.events", envelope("RecordFacilityDemand", asks[0]["data"]))
    assert (again["type"], again["data"]["reason"]) == ("CommandRejected", "duplicate")

    async with auth.client(platform["reporting"].url, timeout=30) as http:
        body = await reads(http, f"/api/v1/orgs/{ids['district']}/facility-gaps", {"as_of": "2025-12-31"},
                           lambda b: b["communities"] and sum(r["requests"] for r in b["communities"][0]["demand"]) == 4
                           and b["communities"][0]["venues"] == 1)
        [c] = body["communities"]
        assert (c["community_id"], c["community_name"], c["gaps"]) == (community, "天鹅湖社区", ["swimming", "badminton"])
        assert [(r["activity"], r["label"], r["people"], r["gap"]) for r in c["demand"]] == [
            ("swimming", "游泳", 12, True), ("badminton", "羽毛球", 2, True), ("table_tennis", "乒乓球", 1, False)]
        assert c["demand"][2]["offered_by"][0]["name"] == "天鹅湖党群服务中心"
        assert (body["gap_totals"], body["communities_with_gaps"]) == ({"swimming": 12, "badminton": 2}, 1)
        # a branch reads its community's; before the demand was recorded, there is none
        branch = (await http.get(f"/api/v1/orgs/{ids['branches'][0]}/facility-gaps",
                                 params={"as_of": "2025-04-05"})).json()
        assert branch["communities"][0]["gaps"] == ["badminton"]
        elsewhere = auth.headers("community", org_ids=[uid("c")])
        r = await http.get(f"/api/v1/orgs/{ids['district']}/facility-gaps", headers=elsewhere)
        assert r.status_code == 404
        labels = (await http.get("/api/v1/labels")).json()
        assert labels["facility_activities"]["swimming"] == "游泳"
