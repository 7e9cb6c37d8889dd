"""End to end (issue 13, 化并转): a branch moved to another community over Kafka, its settings changed
over HTTP, dissolved once its members left; the members service, activities' planner and reporting's
reports and alerts over HTTP."""
import pytest

from tests.e2e.issue13.support import answered, district_with_members, envelope, reads
from tests.support import auth

pytestmark = pytest.mark.e2e


async def test_move_change_and_dissolve_a_branch(platform, bus):
    ids, (m1, m2) = await district_with_members(bus, 2, n_branches=2)
    small, other = ids["branches"]
    c2 = f"{ids['community']}-2"
    [ev] = await answered(bus, "members.events", envelope("EstablishOrganization", {
        "org_id": c2, "name": "怡园社区", "kind": "community", "parent_id": ids["subdistrict"]}))
    assert ev["type"] == "OrganizationEstablished"
    [moved] = await answered(bus, "members.events", envelope("MoveBranch", {"branch_id": small, "to_community_id": c2,
                                                                           "on": "2025-09-01"}))
    assert (moved["type"], sorted(moved["data"]["member_ids"])) == ("BranchMoved", sorted([m1, m2]))

    async with auth.client(platform["members"].url, timeout=30) as http:
        org = (await http.get(f"/api/v1/orgs/{small}")).json()
        assert (org["parent_id"], org["moves"][0]["from_parent_id"]) == (c2, ids["community"])
        # the new community's official sees the branch's members; the old one's no more
        new_side = auth.headers("community", org_ids=[c2])
        assert (await http.get(f"/api/v1/members/{m1}", headers=new_side)).status_code == 200
        old_side = auth.headers("community", org_ids=[ids["community"]])
        assert (await http.get(f"/api/v1/members/{m1}", headers=old_side)).status_code == 404
        change = envelope("ChangeBranchSettings", {"branch_id": small, "on": "2025-10-01", "party_groups": 1})
        assert (await http.post("/api/v1/commands", json=change)).status_code == 202

    async with auth.client(platform["reporting"].url, timeout=30) as http:
        def counted(n):
            return lambda b: b["members"]["registered"] == n
        await reads(http, f"/api/v1/orgs/{c2}/report", {"period": "2025", "as_of": "2025-12-31"}, counted(2))
        old = (await http.get(f"/api/v1/orgs/{ids['community']}/report",
                              params={"period": "2025-01", "as_of": "2025-12-31"})).json()
        assert old["members"]["registered"] == 0  # its history went with it: January too
        body = await reads(http, f"/api/v1/orgs/{small}/report", {"period": "2025-12", "as_of": "2025-12-31"},
                           lambda b: b["organisational_life"]["group_meeting"]["required"] == 1)
        assert body["reorganization"]["moves"][0]["to"] == c2

    async with auth.client(platform["activities"].url, timeout=30) as http:
        plan = await reads(http, f"/api/v1/branches/{small}/plan", {"period": "2025-12"},
                           lambda b: b["party_groups"] == 1)
        assert plan["has_committee"] is False

    # dissolved only once its members were transferred
    dissolve = envelope("DissolveBranch", {"branch_id": small, "on": "2025-12-20", "reason": "党员不足3人，予以撤销"})
    [refused] = await answered(bus, "members.events", dissolve)
    assert (refused["type"], refused["data"]["reason"]) == ("CommandRejected", "not_allowed")
    moves = [envelope("TransferMember", {"member_id": m, "on": "2025-12-15", "to_branch_id": other}) for m in (m1, m2)]
    await answered(bus, "members.events", *moves)
    [done] = await answered(bus, "members.events", {**dissolve, "id": dissolve["id"] + "-2"})
    assert done["type"] == "BranchDissolved"
    async with auth.client(platform["reporting"].url, timeout=30) as http:
        async def small_alerts():
            r = await http.get("/api/v1/alerts", params={"org_id": ids["district"], "as_of": "2025-12-31"})
            return [a for a in r.json()["alerts"] if a["org_id"] == small]
        # it was too small all along; dissolved, it raises no branch alert any more
        await reads(http, f"/api/v1/orgs/{small}/report", {"period": "2025", "as_of": "2025-12-31"},
                    lambda b: b["reorganization"]["dissolved_on"] == "2025-12-20")
        assert await small_alerts() == []
        assert (await http.get("/api/v1/alerts", params={"org_id": ids["district"], "as_of": "2025-12-10"})).json()
