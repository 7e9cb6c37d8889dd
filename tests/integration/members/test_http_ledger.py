"""The members HTTP API on real MongoDB: the tree, member lists, search, one member's ledger,
the audit trail, the caller's scope, and commands posted over HTTP."""
import pytest

from tests.support import auth
from tests.support.members_fixtures import accepted, command, new_member, new_tree, uid
from tests.support.messages import envelope, eventually
from tests.support.scenario import register

pytestmark = pytest.mark.integration


@pytest.fixture
async def http(platform):
    async with auth.client(platform["members"].url, timeout=30) as client:
        yield client


async def test_org_with_children_and_branch_members_filtered(platform, bus, http):
    ids = await new_tree(bus, 2)
    b = ids["branches"][0]
    alone = await new_member(bus, b, name="李建国", gender="male", lives_alone=True, health="poor")
    away = await new_member(bus, b, name="张桂兰")
    gone = await new_member(bus, b, name="赵德明")
    await accepted(bus, command("MarkMemberAway", member_id=away, **{"from": "2026-10-01"}, location="三亚",
                                reason="seasonal"))
    await accepted(bus, command("AssignSpecialist", member_id=alone, specialist_id="s1", specialist_name="李专员"))
    await accepted(bus, command("RecordMemberDeath", member_id=gone, on="2026-09-01"))

    org = (await http.get(f"/api/v1/orgs/{ids['community']}")).json()
    assert org["kind_label"] == "社区党组织"
    assert {c["org_id"]: c["member_count"] for c in org["children"]} == {b: 2, ids["branches"][1]: 0}
    assert org["member_count"] == 2  # the whole subtree's, not the community's own roster
    district = (await http.get(f"/api/v1/orgs/{ids['district']}")).json()
    assert district["member_count"] == 2 and [c["member_count"] for c in district["children"]] == [2]
    branch = (await http.get(f"/api/v1/orgs/{b}")).json()
    assert branch["too_small"] is True and branch["member_count"] == 2

    async def members(**params):
        r = await http.get(f"/api/v1/orgs/{b}/members", params={"as_of": "2026-11-01", **params})
        assert r.status_code == 200, r.text
        return [row["member_id"] for row in r.json()["items"]]

    assert await members() == [away, alone, gone]  # by name: 张, 李, 赵 (code point order)
    assert await members(status="away") == [away]
    assert await members(status="deceased") == [gone]
    health = await http.get(f"/api/v1/orgs/{b}/members", params={"health": "poor"})
    assert health.status_code == 403  # a filter on health tells health: it must be unmasked, with a reason
    assert await members(health="poor", reveal="health", reason="安排走访") == [alone]
    assert await members(lives_alone="true") == [alone]
    assert await members(specialist_id="s1") == [alone]
    assert await members(has_specialist="false") == [away, gone]
    assert await members(has_specialist="true") == await members(has_specialist="true", specialist_id="s1") == [alone]
    assert await members(has_specialist="false", specialist_id="s1") == []
    page = (await http.get(f"/api/v1/orgs/{ids['district']}/members", params={"page_size": 2, "page": 2})).json()
    assert (page["total"], [r["member_id"] for r in page["items"]], page["page"]) == (3, [gone], 2)  # paginated
    page = (await http.get(f"/api/v1/orgs/{ids['district']}/members",
                           params={"status": "resident", "as_of": "2026-11-01", "page_size": 1})).json()
    assert (page["total"], [r["member_id"] for r in page["items"]]) == (1, [alone])  # a status, then the page
    row = (await http.get(f"/api/v1/orgs/{b}/members", params={"status": "away", "as_of": "2026-11-01"})).json()["items"][0]
    assert (row["status_label"], row["name"]) == ("外出", "张桂兰")
    bad = await http.get(f"/api/v1/orgs/{b}/members", params={"status": "travelling"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"
    assert (await http.get(f"/api/v1/orgs/{uid('nowhere')}/members")).status_code == 404


async def test_search_by_name_in_chinese(platform, bus, http):
    ids = await new_tree(bus)
    surname = uid("欧阳")[-4:]  # unique to this test: a run shares the database
    m = await new_member(bus, ids["branches"][0], name=f"欧阳{surname}华")
    r = await http.get("/api/v1/members", params={"name": f"阳{surname}"})
    assert r.status_code == 200 and [x["member_id"] for x in r.json()["items"]] == [m]
    r = await http.get("/api/v1/members", params={"name": "欧阳", "org_id": ids["community"]})
    assert [x["member_id"] for x in r.json()["items"]] == [m]
    assert (await http.get("/api/v1/members", params={"name": "."})).json()["total"] == 0  # not a pattern
    assert (await http.get("/api/v1/members")).status_code == 422
    assert (await http.get("/api/v1/members", params={"name": " "})).status_code == 422


async def test_one_members_ledger_tells_the_whole_story(platform, bus, http):
    ids = await new_tree(bus)
    b = ids["branches"][0]
    m = await new_member(bus, b)
    for cmd in [
        command("RecordDuesPayment", payment_id=uid("p"), member_id=m, from_month="2026-01", to_month="2026-03",
                amount="72.00", paid_on="2026-01-20"),
        command("MarkMemberAway", member_id=m, **{"from": "2026-02-01"}, until="2026-03-31", location="三亚",
                reason="seasonal"),
        command("MarkMemberReturned", member_id=m, on="2026-03-20"),
        command("RecordEvaluation", member_id=m, year=2026, result="qualified"),
        command("RecordEvaluation", member_id=m, year=2026, result="excellent"),
        command("GrantAward", award_id=uid("a"), year=2026, category="best_old_member", subject_id=m),
        command("UpdateMemberProfile", member_id=m, changes={"phone": "13800001111"}),
    ]:
        await accepted(bus, cmd)
    r = await http.get(f"/api/v1/members/{m}", params={"as_of": "2026-06-30", "year": 2026})
    assert r.status_code == 200
    ledger = r.json()
    assert (ledger["branch_id"], ledger["status"], ledger["status_label"]) == (b, "resident", "在居住地")
    assert [h["change"] for h in ledger["status_history"]] == ["registered", "away", "returned"]
    assert ledger["dues"]["paid_months"] == ["2026-01", "2026-02", "2026-03"]
    assert ledger["dues"]["unpaid_months"][:2] == ["2026-04", "2026-05"] and len(ledger["dues"]["unpaid_months"]) == 9
    assert ledger["dues"]["payments"][0]["comparison_label"] == "足额"
    assert [(e["result"], e["current"]) for e in ledger["evaluations"]] == [("qualified", False), ("excellent", True)]
    assert ledger["awards"][0]["category_label"] == "最美老党员"
    # a district official sees personal data masked; unmasking names the category and a reason
    assert ledger["profile"]["phone"] == "138****1111" and ledger["profile"]["health_label"] is None
    assert ledger["phone"] == "138****1111" and ledger["profile"]["monthly_pension"] == "****"
    revealed = (await http.get(f"/api/v1/members/{m}", params={"reveal": "phone", "reason": "核实联系方式"})).json()
    assert revealed["profile"]["phone"] == "13800001111" and revealed["profile"]["monthly_pension"] == "****"
    assert (await http.get(f"/api/v1/members/{m}", params={"reveal": "phone"})).status_code == 422  # no reason
    # dues are 0.5% or 1% of the pension: masked with it, and unmasked with it (issue 12)
    assert ledger["monthly_dues"] == ledger["dues"]["monthly_dues"] == ledger["dues"]["months"][0]["due"] == "****"
    assert ledger["dues"]["payments"][0]["amount"] == "****" and ledger["dues"]["months"][0]["paid"] is True
    told = (await http.get(f"/api/v1/members/{m}",
                           params={"year": 2026, "reveal": "pension", "reason": "核对党费"})).json()
    assert told["dues"]["payments"][0]["amount"] == "72.00" and told["monthly_dues"] == told["dues"]["months"][0]["due"]
    assert told["monthly_dues"] != "****" and told["profile"]["monthly_pension"] != "****"
    async with auth.client(http.base_url, member_id=m, role="member") as own:
        mine = (await own.get(f"/api/v1/members/{m}")).json()  # the member sees all of their own record
    assert mine["profile"]["phone"] == "13800001111" and mine["profile"]["health_label"] == "一般"
    assert (await http.get(f"/api/v1/members/{m}", params={"as_of": "2026-03-01"})).json()["status"] == "away"

    history = (await http.get(f"/api/v1/members/{m}/history")).json()
    assert history["total"] == 8
    first, last = history["items"][0], history["items"][-1]
    assert first["command_type"] == "RegisterMember" and first["source"] == "test-registry" and first["time"]
    assert last["command_type"] == "UpdateMemberProfile"
    assert (last["before"]["profile"]["phone"], last["after"]["profile"]["phone"]) == ("139****5678", "138****1111")
    assert last["actor"] is None  # sent over Kafka: the system alone answers for it
    assert (await http.get(f"/api/v1/members/{m}/history", params={"page_size": 3, "page": 3})).json()["items"][-1] == last
    assert (await http.get(f"/api/v1/members/{uid('m')}/history")).status_code == 404
    assert (await http.get(f"/api/v1/members/{m}", params={"as_of": "yesterday"})).status_code == 422
    assert (await http.get(f"/api/v1/members/{m}", params={"as_of": "2026-02-30"})).status_code == 422


async def test_the_caller_sees_only_its_subtree(platform, bus, http):
    ours, theirs = await new_tree(bus), await new_tree(bus)
    m = await new_member(bus, ours["branches"][0])
    scoped = auth.headers("community", org_ids=[ours["community"]])
    assert (await http.get(f"/api/v1/members/{m}", headers=scoped)).status_code == 200
    assert (await http.get(f"/api/v1/orgs/{ours['branches'][0]}", headers=scoped)).status_code == 200
    other = auth.headers("community", org_ids=[theirs["community"]])
    assert (await http.get(f"/api/v1/members/{m}", headers=other)).status_code == 404
    assert (await http.get(f"/api/v1/orgs/{ours['branches'][0]}/members", headers=other)).status_code == 404
    assert (await http.get("/api/v1/members", params={"name": "王秀英"}, headers=other)).json()["total"] == 0
    # a header naming a role is not believed: only a signed token says who is calling
    forged = await http.get(f"/api/v1/members/{m}", headers={"Authorization": "", "X-Role": "district"})
    assert forged.status_code == 401


@pytest.mark.parametrize("case", ["away", "payment", "merge"])
async def test_commands_over_http(platform, bus, http, case):
    ids = await new_tree(bus, 2)
    b1, b2 = ids["branches"]
    m = await new_member(bus, b1)
    if case == "away":
        cmd = envelope("MarkMemberAway", {"member_id": m, "from": "2026-11-01", "location": "三亚", "reason": "seasonal"})
        done = lambda ledger: ledger["away_periods"] and ledger["away_periods"][0]["location"] == "三亚"  # noqa: E731
    elif case == "payment":
        cmd = envelope("RecordDuesPayment", {"payment_id": uid("p"), "member_id": m, "from_month": "2026-01",
                                             "to_month": "2026-01", "amount": "24.00", "paid_on": "2026-01-10"})
        done = lambda ledger: ledger["dues"]["paid_months"] == ["2026-01"]  # noqa: E731
    else:
        cmd = envelope("MergeBranches", {"from_branch_id": b1, "into_branch_id": b2, "on": "2026-06-30"})
        done = lambda ledger: ledger["branch_id"] == b2  # noqa: E731
    r = await http.post("/api/v1/commands", json=cmd)
    assert r.status_code == 202, r.text

    async def applied():
        ledger = (await http.get(f"/api/v1/members/{m}", params={"year": 2026})).json()
        return done(ledger)

    await eventually(applied, timeout=60)
    latest = (await http.get(f"/api/v1/members/{m}/history", params={"order": "desc"})).json()["items"][0]
    # the sending system is the HTTP door it came through, whatever the body said; the person is the actor
    assert (latest["command_id"], latest["source"], latest["actor"]) == (cmd["id"], "sunsetred-members", "test-district")
    bad = await http.post("/api/v1/commands", json=register(b1, gender="x"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "data.gender"
