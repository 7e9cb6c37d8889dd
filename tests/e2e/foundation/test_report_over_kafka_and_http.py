"""End to end: a district system publishes to Kafka; the report is read back over HTTP."""
import pytest

from tests.support import auth
from tests.support.messages import caused_by, envelope, eventually
from tests.support.scenario import register, tree, uid

pytestmark = pytest.mark.e2e


async def _registered(http, org_id, period="2026-Q1", as_of=None):
    params = {"period": period} | ({"as_of": as_of} if as_of else {})
    r = await http.get(f"/api/v1/orgs/{org_id}/report", params=params)
    return r.json()["members"]["registered"] if r.status_code == 200 else None


async def test_registered_members_roll_up_the_tree(platform, bus):
    ids, cmds = tree(2)
    for cmd in cmds:
        await bus.send("members.commands", cmd)
        await bus.events("members.events", lambda es, c=cmd: bool(caused_by(es, c)))
    b1, b2 = ids["branches"]
    regs = [register(b1), register(b1), register(b2), register(b2, registered_on="2026-03-20")]
    await bus.send("members.commands", *regs)
    async with auth.client(platform["reporting"].url) as http:
        await eventually(lambda: _is(http, ids["district"], 4), timeout=120)
        assert await _registered(http, b1) == 2
        assert await _registered(http, b2) == 2
        assert await _registered(http, ids["community"]) == 4
        # as_of fixes "now": on 1 March the late registration does not count yet
        assert await _registered(http, ids["district"], as_of="2026-03-01") == 3
        assert await _registered(http, ids["district"], period="2026-01") == 3
        bad = await http.get(f"/api/v1/orgs/{b1}/report", params={"period": "2026-Q5"})
        assert bad.status_code == 422
        assert (await http.get(f"/api/v1/orgs/{uid('x')}/report", params={"period": "2026"})).status_code == 404


async def _is(http, org_id, n):
    return await _registered(http, org_id) == n


async def test_activity_and_notice_slices(platform, bus):
    ids, cmds = tree(1)
    for cmd in cmds:  # a parent before its child: each level waits for the one above
        await bus.send("members.commands", cmd)
        await bus.events("members.events", lambda es, c=cmd: bool(caused_by(es, c)), timeout=120)
    branch = ids["branches"][0]
    act = uid("a")
    schedule = envelope("ScheduleActivity", {"activity_id": act, "kind": "branch_assembly", "title": "一季度党员大会",
                                             "branch_ids": [branch], "starts_at": "2026-03-05T09:00:00+08:00",
                                             "ends_at": "2026-03-05T11:00:00+08:00"})
    held_without_minutes = envelope("RecordActivityHeld", {"activity_id": act, "attendance": []})
    held = envelope("RecordActivityHeld", {"activity_id": act, "minutes": "学习文件，讨论工作。",
                                           "attendance": [{"member_id": uid("m"), "status": "present"}]})
    await bus.send("activities.commands", schedule, held_without_minutes, held)
    events = await bus.events("activities.events", lambda es: bool(caused_by(es, held)), timeout=120)
    assert caused_by(events, schedule)[0]["data"]["held_on"] == "2026-03-05"
    assert caused_by(events, held_without_minutes)[0]["data"]["reason"] == "invalid"
    assert caused_by(events, held)[0]["type"] == "ActivityHeld"

    notice = envelope("SendNotice", {"notice_id": uid("n"), "title": "学习通知", "body": "请学习文件。",
                                     "category": "study", "audience": {"org_ids": [branch]}})
    async with auth.client(platform["notifications"].url) as http:
        # notifications rejects an audience it has not heard of: wait until members.events reached it
        await eventually(lambda: _knows(http, branch), timeout=120)
        assert (await http.post("/api/v1/commands", json=notice)).status_code == 202
    events = await bus.events("notifications.events", lambda es: bool(caused_by(es, notice)), timeout=120)
    assert caused_by(events, notice)[0]["type"] == "NoticeCreated"


async def _knows(http, org_id):
    return (await http.get("/api/v1/audience", params={"org_ids": org_id})).status_code == 200
