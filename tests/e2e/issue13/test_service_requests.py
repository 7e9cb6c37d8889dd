"""End to end (issue 13, item 7): a visit's needs become service requests, a difficulty is opened over
HTTP, one request is resolved; reporting's report, list and `request_overdue` alert over HTTP."""
import pytest

from shared.contracts.service_requests import visit_request_id
from tests.e2e.issue13.support import answered, caused, district_with_members, envelope, reads, uid
from tests.support import auth

pytestmark = pytest.mark.e2e


async def test_needs_found_on_a_visit_and_a_difficulty(platform, bus):
    ids, (m1, m2) = await district_with_members(bus, 2)
    branch = ids["branches"][0]
    visit = envelope("RecordVisit", {"visit_id": uid("v"), "member_id": m1, "specialist_id": "sp-1",
                                     "on": "2025-03-03", "kind": "home", "health": "fair",
                                     "needs": ["健康体检", "楼道清扫"]})
    events = await caused(bus, "activities.events", visit, 3)  # on two keys: the member's and each request's
    assert sorted(e["type"] for e in events) == ["ServiceRequestOpened", "ServiceRequestOpened", "VisitRecorded"]
    health_check, stairs = visit_request_id(visit["data"]["visit_id"], 0), visit_request_id(visit["data"]["visit_id"], 1)
    difficulty = envelope("OpenServiceRequest", {
        "request_id": uid("rq"), "member_id": m2, "kind": "difficulty", "description": "老伴住院，生活无人照料",
        "source": "secretary", "opened_on": "2025-03-05", "responsible_id": "sec-1", "responsible_name": "王书记",
        "due_on": "2025-03-12"})
    async with auth.client(platform["activities"].url, timeout=30) as http:
        r = await http.post("/api/v1/commands", json=difficulty)
        assert r.status_code == 202, r.text
    resolve = envelope("ResolveServiceRequest", {"request_id": health_check, "on": "2025-03-08",
                                                 "outcome": "resolved", "resolution": "已预约社区卫生服务中心体检"})
    [done] = await answered(bus, "activities.events", resolve)
    assert (done["type"], done["data"]["late"]) == ("ServiceRequestResolved", False)

    async with auth.client(platform["reporting"].url, timeout=30) as http:
        body = await reads(http, f"/api/v1/orgs/{ids['district']}/report", {"period": "2025-03", "as_of": "2025-03-31"},
                           lambda b: b.get("services", {}).get("opened") == 3 and b["services"]["resolved"] == 1)
        s = body["services"]
        assert {k: s[k] for k in ("opened", "resolved", "open", "overdue")} == {
            "opened": 3, "resolved": 1, "open": 2, "overdue": 2}
        assert (s["by_kind"], s["by_source"]) == ({"difficulty": 1, "service": 2}, {"secretary": 1, "visit": 2})
        listed = (await http.get(f"/api/v1/orgs/{branch}/service-requests",
                                 params={"status": "unresolved", "as_of": "2025-03-31"})).json()
        assert {x["request_id"]: x["status"] for x in listed["items"]} == {
            stairs: "overdue", difficulty["data"]["request_id"]: "overdue"}
        assert {x["description"] for x in listed["items"]} == {None}  # masked as health is
        reveal = {"reveal": "health", "reason": "核实困难帮扶情况"}
        clear = (await http.get(f"/api/v1/orgs/{branch}/service-requests",
                                params={"status": "unresolved", "as_of": "2025-03-31", **reveal})).json()
        assert {x["description"] for x in clear["items"]} == {"楼道清扫", "老伴住院，生活无人照料"}
        alerts = (await http.get("/api/v1/alerts", params={"org_id": ids["district"], "as_of": "2025-03-31",
                                                            "kind": "request_overdue"})).json()["alerts"]
        assert {(a["subject_id"], a["since"], a["level"], a["org_id"]) for a in alerts} == {
            (stairs, "2025-03-18", "warning", branch), (difficulty["data"]["request_id"], "2025-03-13", "warning", branch)}
        assert {a["details"]["description"] for a in alerts} == {None}  # the alerts' too
        alerts = (await http.get("/api/v1/alerts", params={"org_id": ids["district"], "as_of": "2025-03-31",
                                                            "kind": "request_overdue", **reveal})).json()["alerts"]
        assert {a["details"]["description"] for a in alerts} == {"楼道清扫", "老伴住院，生活无人照料"}
        labels = (await http.get("/api/v1/labels")).json()
        assert (labels["alerts"]["request_overdue"], labels["services"]["stair_cleaning"]) == ("服务需求逾期未办结", "楼道清扫")
        # a specialist of another subtree sees nothing of it
        other = auth.headers("community", org_ids=[uid("c")])
        assert (await http.get(f"/api/v1/orgs/{branch}/service-requests", headers=other)).status_code == 404
