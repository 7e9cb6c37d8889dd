"""The planner on real Kafka and MongoDB: branches learnt from members.events, activities from
commands, for months, quarters and years, with and without committee and party groups; and a
district's own frequencies (ORG_LIFE_RULES)."""
import pytest

from tests.integration.activities.support import answer, held, present, schedule
from tests.support import auth
from tests.support.messages import Bus, caused_by, envelope, eventually
from tests.support.scenario import register, uid
from tests.support.services import ServiceProcess

pytestmark = pytest.mark.integration


async def _establish(bus, **branches: dict) -> dict[str, str]:
    """A district → subdistrict → community tree and the named branches; returns their ids."""
    ids = {"district": uid("d"), "subdistrict": uid("s"), "community": uid("c")}
    cmds = [envelope("EstablishOrganization", {"org_id": ids["district"], "name": "X区", "kind": "district"}),
            envelope("EstablishOrganization", {"org_id": ids["subdistrict"], "name": "湖滨街道", "kind": "subdistrict",
                                               "parent_id": ids["district"]}),
            envelope("EstablishOrganization", {"org_id": ids["community"], "name": "怡园社区", "kind": "community",
                                               "parent_id": ids["subdistrict"]})]
    for name, shape in branches.items():
        ids[name] = uid("b")
        cmds.append(envelope("EstablishOrganization", {"org_id": ids[name], "name": f"怡园社区退休党支部{name}",
                                                       "kind": "branch", "parent_id": ids["community"], **shape}))
    for cmd in cmds:  # a parent must exist before its child
        await bus.send("members.commands", cmd)
        await bus.events("members.events", lambda es, c=cmd: bool(caused_by(es, c)), timeout=90)
    return ids


async def _plan(http, branch_id, period):
    r = await http.get(f"/api/v1/branches/{branch_id}/plan", params={"period": period})
    return r.json() if r.status_code == 200 else None


def _kinds(plan: dict) -> dict[str, dict]:
    return {k["kind"]: k for k in plan["kinds"]}


def _counts(row: dict) -> tuple:
    return row["required"], row["held"], row["scheduled"], row["missing"], row["status"]


async def test_planner_for_months_quarters_and_years(platform, bus):
    ids = await _establish(bus, big={"has_committee": True, "party_groups": 2}, small={})
    big, small = ids["big"], ids["small"]
    reg = register(big)
    [registered] = await answer(bus, reg, topic="members.commands", events="members.events")
    assert registered["type"] == "MemberRegistered"
    m = reg["data"]["member_id"]
    acts = {
        "assembly": schedule([big], "branch_assembly", "2026-02-10"),
        "cm_jan": schedule([big], "committee_meeting", "2026-01-05"),
        "cm_jan2": schedule([big], "committee_meeting", "2026-01-25"),
        "cm_mar": schedule([big], "committee_meeting", "2026-03-02"),
        "gm_jan": schedule([big], "group_meeting", "2026-01-09"),
        "tpd_jan": schedule([big, small], "themed_party_day", "2026-01-01"),
        "tpd_feb": schedule([big, small], "themed_party_day", "2026-02-01"),
        "tpd_mar": schedule([big], "themed_party_day", "2026-03-01"),
        "lecture": schedule([big, small], "party_lecture", "2026-03-20"),  # an alliance lecture
        "study": schedule([small], "study", "2026-03-21"),
    }
    await answer(bus, *acts.values())
    aid = {k: v["data"]["activity_id"] for k, v in acts.items()}
    to_hold = ["assembly", "cm_jan", "cm_jan2", "tpd_jan", "tpd_feb", "tpd_mar", "lecture", "study"]
    await answer(bus, *(held(aid[k], [present(m)]) for k in to_hold),
                 envelope("CancelActivity", {"activity_id": aid["gm_jan"], "reason": "组长生病"}))

    async with auth.client(platform["activities"].url) as http:
        q1 = await eventually(lambda: _plan(http, big, "2026-Q1"), timeout=60)
        assert (q1["has_committee"], q1["party_groups"]) == (True, 2)
        k = _kinds(q1)
        assert _counts(k["branch_assembly"]) == (1, 1, 0, 0, "done")
        assert _counts(k["committee_meeting"]) == (3, 2, 1, 2, "missing")  # February has none
        assert [u["unit"] for u in k["committee_meeting"]["units"] if u["to_schedule"]] == ["2026-02"]
        assert _counts(k["group_meeting"]) == (6, 0, 0, 6, "missing")  # per party group: two a month
        assert [a["status"] for a in k["group_meeting"]["activities"]] == ["cancelled"]
        assert _counts(k["party_lecture"]) == (1, 1, 0, 0, "done")
        assert _counts(k["themed_party_day"]) == (3, 3, 0, 0, "done")
        assert _counts(k["org_life_meeting"]) == (0, 0, 0, 0, "not_required")
        assert k["committee_meeting"]["label"] == "支部委员会会议"
        assert q1["compliance"] == round((1 + 2 + 0 + 1 + 3) / 14, 4)

        march = _kinds(await _plan(http, big, "2026-03"))
        assert _counts(march["committee_meeting"]) == (1, 0, 1, 1, "scheduled")
        assert _counts(march["branch_assembly"]) == (0, 0, 0, 0, "not_required")

        year = _kinds(await _plan(http, big, "2026"))
        assert _counts(year["branch_assembly"]) == (4, 1, 0, 3, "missing")
        assert _counts(year["democratic_evaluation"]) == (1, 0, 0, 1, "missing")
        assert year["committee_meeting"]["required"] == 12

        # a branch with neither committee nor party groups owes no committee or group meetings
        sq = _kinds(await eventually(lambda: _plan(http, small, "2026-Q1"), timeout=60))
        assert _counts(sq["committee_meeting"]) == (0, 0, 0, 0, "not_required")
        assert _counts(sq["group_meeting"]) == (0, 0, 0, 0, "not_required")
        assert _counts(sq["themed_party_day"]) == (3, 2, 0, 1, "missing")
        assert _counts(sq["party_lecture"]) == (1, 1, 0, 0, "done")

        async def named():
            one = (await http.get(f"/api/v1/activities/{aid['assembly']}")).json()
            return one["attendance"][0]["member_name"]
        assert await eventually(named, timeout=60) == "王秀英"  # from members.events

        cal = (await http.get(f"/api/v1/branches/{small}/calendar", params={"period": "2026-03"})).json()
        assert [(d["date"], [a["kind"] for a in d["activities"]]) for d in cal["days"]] == [
            ("2026-03-20", ["party_lecture"]), ("2026-03-21", ["study"])]

        assert (await http.get(f"/api/v1/branches/{uid('b')}/plan", params={"period": "2026"})).status_code == 404
        assert (await http.get(f"/api/v1/branches/{uid('b')}/calendar", params={"period": "2026"})).status_code == 404
        bad = await http.get(f"/api/v1/branches/{big}/plan", params={"period": "2026-Q0"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "period"
        missing = await http.get(f"/api/v1/branches/{big}/plan")
        assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "period"


async def test_a_district_sets_its_own_frequencies(infra, run_id):
    """ORG_LIFE_RULES: party group meetings twice a month, an org life meeting every half year."""
    prefix = f"t{run_id}cfg."
    rules = ('[{"kind": "group_meeting", "per": "month", "times": 2, "applies": "party_groups"},'
             ' {"kind": "org_life_meeting", "per": "half_year"}]')
    proc = ServiceProcess("activities", infra, prefix, {"ORG_LIFE_RULES": rules}).start()
    bus = Bus(infra.kafka, prefix)
    try:
        await proc.wait_ready()
        await bus.start()
        branch = uid("b")
        # as the members service would publish it
        await bus.send("members.events", envelope("OrganizationEstablished", {
            "org_id": branch, "name": "北岸明珠社区退休党支部", "kind": "branch", "parent_id": uid("c"),
            "has_committee": True, "party_groups": 1}, source="sunsetred-members"))
        gm = schedule([branch], "group_meeting", "2026-01-08")
        await answer(bus, gm)
        await answer(bus, held(gm["data"]["activity_id"]))
        async with auth.client(proc.url) as http:
            k = _kinds(await eventually(lambda: _plan(http, branch, "2026-Q1"), timeout=60))
            assert _counts(k["group_meeting"]) == (6, 1, 0, 5, "missing")
            assert k["group_meeting"]["rules"][0]["text"] == "每个党小组每月2次"
            assert _counts(k["committee_meeting"]) == (0, 0, 0, 0, "not_required")  # not in this district's rules
            y = _kinds(await _plan(http, branch, "2026"))
            assert y["org_life_meeting"]["required"] == 2 and y["group_meeting"]["required"] == 24
    finally:
        await bus.stop()
        proc.stop()


async def test_a_bad_rule_setting_stops_the_start(infra, run_id):
    proc = ServiceProcess("activities", infra, f"t{run_id}bad.", {"ORG_LIFE_RULES": '[{"kind": "dance", "per": "month"}]'})
    proc.start()
    try:
        with pytest.raises(RuntimeError, match="exited"):
            await proc.wait_ready(timeout=60)
    finally:
        proc.stop()
