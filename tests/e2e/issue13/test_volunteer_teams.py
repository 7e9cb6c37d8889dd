"""End to end (issue 13, item 10): a volunteer service team registered on Kafka, hours logged for it,
its roster read from activities and its hours by person and month from reporting, over HTTP."""
import pytest

from tests.e2e.issue13.support import answered, district_with_members, envelope, reads, uid
from tests.support import auth

pytestmark = pytest.mark.e2e


async def test_a_team_its_roster_and_its_hours(platform, bus):
    ids, (m1, m2, m3) = await district_with_members(bus, 3)
    team = uid("vt")
    reg = envelope("RegisterVolunteerTeam", {"team_id": team, "name": "爱心义剪", "community_id": ids["community"],
                                             "formed_on": "2025-02-01", "leader_id": m1, "member_ids": [m1, m2]})
    join = envelope("JoinVolunteerTeam", {"team_id": team, "member_id": m3, "on": "2025-03-01"})
    events = await answered(bus, "activities.events", reg, join)
    assert [e["type"] for e in events] == ["VolunteerTeamRegistered", "VolunteerTeamMemberJoined"]
    hours = [envelope("LogVolunteerHours", {"entry_id": uid("h"), "member_id": m, "team_id": team, "hours": h,
                                            "on": on})
             for m, h, on in ((m1, "2", "2025-03-15"), (m2, "3.5", "2025-03-15"), (m3, "2", "2025-04-15"))]
    not_on_roster = envelope("LogVolunteerHours", {"entry_id": uid("h"), "member_id": m3, "team_id": team,
                                                   "hours": "1", "on": "2025-02-15"})
    label_only = envelope("LogVolunteerHours", {"entry_id": uid("h"), "member_id": m1, "team": "治安巡逻",
                                                "hours": "1.5", "on": "2025-04-20"})
    events = await answered(bus, "activities.events", *hours, not_on_roster, label_only)
    assert [e["data"].get("team") for e in events[:3]] == ["爱心义剪"] * 3
    assert (events[3]["type"], events[3]["data"]["reason"]) == ("CommandRejected", "not_allowed")
    assert events[4]["data"]["team"] == "治安巡逻"

    async with auth.client(platform["activities"].url, timeout=30) as http:
        r = await http.get(f"/api/v1/volunteer-teams/{team}", params={"as_of": "2025-03-01"})
        assert r.status_code == 200, r.text
        assert ([x["member_id"] for x in r.json()["members"]], r.json()["leader"]["member_id"]) == (
            sorted([m1, m2, m3]), m1)
        elsewhere = auth.headers("community", org_ids=[uid("c")])
        assert (await http.get(f"/api/v1/volunteer-teams/{team}", headers=elsewhere)).status_code == 404

    async with auth.client(platform["reporting"].url, timeout=30) as http:
        body = await reads(http, f"/api/v1/orgs/{ids['district']}/volunteer-teams",
                           {"period": "2025", "as_of": "2025-12-31"},
                           lambda b: b["teams"] and b["teams"][0]["hours"] == "7.5" and b["by_label_only"])
        [t] = body["teams"]
        assert (t["name"], t["community_name"], t["roster_size"], t["leader"]["member_id"]) == (
            "爱心义剪", "天鹅湖社区", 3, m1)
        assert [(x["member_id"], x["hours"]) for x in t["by_member"]] == [(m2, "3.5"), *sorted([(m1, "2"), (m3, "2")])]
        assert t["by_month"] == {"2025-03": "5.5", "2025-04": "2"}
        assert body["by_label_only"] == {"治安巡逻": "1.5"}
        q1 = (await http.get(f"/api/v1/orgs/{ids['branches'][0]}/volunteer-teams",
                             params={"period": "2025-Q1", "as_of": "2025-12-31"})).json()
        assert q1["teams"][0]["hours"] == "5.5"  # a branch sees its community's teams
        by_label = (await http.get(f"/api/v1/orgs/{ids['district']}/volunteer-hours", params={"period": "2025"})).json()
        assert by_label["by_team"] == {"爱心义剪": "7.5", "治安巡逻": "1.5"}
