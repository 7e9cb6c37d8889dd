"""End to end (issue 13, visits): visits recorded on Kafka and over HTTP (a specialist's own command);
the visit log per member and per specialist read from activities, scoped by role; the health and
needs found reach the member's ledger on the members service."""
import pytest

from tests.e2e.issue13.support import answered, caused, district_with_members, envelope, reads, uid
from tests.support import auth
from tests.support.messages import eventually

pytestmark = pytest.mark.e2e
REVEAL = {"reveal": "health", "reason": "走访跟进"}  # a district official unmasks health for a reason (audited)


async def test_the_visit_log_and_the_ledger(platform, bus):
    ids, (m1, m2) = await district_with_members(bus, 2)
    sp = uid("sp")
    assign = envelope("AssignSpecialist", {"member_id": m1, "specialist_id": sp, "specialist_name": "李专员"})
    [ev] = await answered(bus, "members.events", assign)
    assert ev["type"] == "SpecialistAssigned"
    first = envelope("RecordVisit", {"visit_id": uid("v"), "member_id": m1, "specialist_id": sp, "on": "2025-03-03",
                                     "kind": "home", "health": "fair", "needs": []})
    [ev] = await answered(bus, "activities.events", first)
    assert ev["type"] == "VisitRecorded"
    second = envelope("RecordVisit", {"visit_id": uid("v"), "member_id": m1, "specialist_id": sp, "on": "2025-04-03",
                                      "kind": "phone", "health": "poor", "needs": ["陪同就医"]})
    async with auth.client(platform["activities"].url, role="specialist", specialist_id=sp, timeout=30) as http:
        async def posted():  # the specialist's own member, once activities has heard they are (else 404)
            return (await http.post("/api/v1/commands", json=second)).status_code == 202

        await eventually(posted, timeout=60)
        mine = await reads(http, f"/api/v1/specialists/{sp}/visits", {}, lambda b: len(b["visits"]) == 2)
        assert [(v["on"], v["health"], v["needs"]) for v in mine["visits"]] == [
            ("2025-04-03", "poor", ["陪同就医"]), ("2025-03-03", "fair", [])]
        assert (await http.get(f"/api/v1/specialists/{uid('sp')}/visits")).status_code == 404  # not theirs
    async with auth.client(platform["activities"].url, timeout=30) as http:
        log = (await http.get(f"/api/v1/members/{m1}/visits", params={"period": "2025-Q2"})).json()
        assert [(v["on"], v["kind_label"], v["health_label"]) for v in log["visits"]] == [("2025-04-03", "电话联系", None)]
        log = (await http.get(f"/api/v1/members/{m1}/visits", params={"period": "2025-Q2", **REVEAL})).json()
        assert [(v["on"], v["kind_label"], v["health_label"]) for v in log["visits"]] == [("2025-04-03", "电话联系", "较差")]
        community = auth.headers("community", org_ids=[ids["community"]])
        masked = (await http.get(f"/api/v1/members/{m1}/visits", headers=community)).json()
        assert len(masked["visits"]) == 2 and masked["visits"][0]["health"] is None  # health is not theirs to see
        elsewhere = auth.headers("community", org_ids=[uid("c")])
        assert (await http.get(f"/api/v1/members/{m1}/visits", headers=elsewhere)).status_code == 404
        assert (await http.get(f"/api/v1/members/{m2}/visits", headers=auth.headers(
            "member", member_id=m1))).status_code == 404
    async with auth.client(platform["members"].url, timeout=30) as http:
        ledger = await reads(http, f"/api/v1/members/{m1}", {"as_of": "2025-12-31", **REVEAL},
                             lambda b: b.get("visits_total") == 2 and b.get("service_requests"))
        assert ledger["health_found"] == {"health": "poor", "health_label": "较差", "on": "2025-04-03",
                                          "visit_id": second["data"]["visit_id"]}
        assert ledger["needs_found"] == ["陪同就医"]
        assert [(r["service"], r["open"]) for r in ledger["service_requests"]] == [("medical_escort", True)]
