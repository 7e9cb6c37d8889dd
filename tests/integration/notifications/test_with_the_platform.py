"""With the real members and activities services: their events feed the notifications
projection, and a notice goes out on the demo's console channel (nothing configured)."""
from datetime import datetime, timedelta, timezone

import pytest

from tests.integration.notifications.conftest import by_member, send_notice
from tests.support import auth
from tests.support.messages import answered, envelope, eventually
from tests.support.scenario import register, tree, uid

pytestmark = pytest.mark.integration


async def test_members_events_feed_the_audience_and_the_console_channel_delivers(platform, bus):
    ids, cmds = tree(1)
    for cmd in cmds:
        await answered(bus, "members.commands", cmd)
    branch = ids["branches"][0]
    # channels the default quiet hours never hold, whatever time the test runs
    wx = register(branch, phone="13800000001", wechat_openid=uid("o"), preferred_channel="wechat")
    mail = register(branch, email="li@example.cn", preferred_channel="email")
    visit = register(branch, phone=None, lives_alone=True)
    dead = register(branch, email="gone@example.cn", preferred_channel="email")
    for cmd in (wx, mail, visit, dead):
        await answered(bus, "members.commands", cmd)
    await answered(bus, "members.commands", envelope("RecordMemberDeath", {"member_id": dead["data"]["member_id"],
                                                                          "on": "2026-02-01"}))
    specialist = uid("sp")
    await answered(bus, "members.commands", envelope("AssignSpecialist", {
        "member_id": visit["data"]["member_id"], "specialist_id": specialist, "specialist_name": "李专员"}))

    async with auth.client(platform["notifications"].url, timeout=10) as http:
        async def audience_ready():
            r = await http.get("/api/v1/audience", params={"org_ids": ids["district"]})
            ok = r.status_code == 200 and r.json()["count"] == 3 and any(
                p["specialist_id"] == specialist for p in r.json()["recipients"])
            return ok and r.json()

        preview = await eventually(audience_ready, timeout=60)
        assert (preview["total"], preview["has_more"]) == (3, False)
        cut = (await http.get("/api/v1/audience", params={"org_ids": ids["district"], "page_size": 2})).json()
        assert (cut["count"], len(cut["recipients"]), cut["has_more"]) == (3, 2, True)  # issue 12: bounded pages
        rest = (await http.get("/api/v1/audience", params={"org_ids": ids["district"], "page_size": 2, "page": 2})).json()
        assert [p["member_id"] for p in cut["recipients"] + rest["recipients"]] == \
            [p["member_id"] for p in preview["recipients"]]  # the pages, one after the other: everyone once, in order
        plans = {p["member_id"]: p["plan"] for p in preview["recipients"]}
        assert plans[visit["data"]["member_id"]] == ["door"]

        notice_id = uid("notice")
        await bus.send("notifications.commands", send_notice(notice_id, org_ids=[ids["district"]]))

        async def settled():
            r = await http.get(f"/api/v1/notices/{notice_id}/status")
            ok = r.status_code == 200 and r.json()["summary"]["delivered"] == 2 \
                and r.json()["summary"]["door_assigned"] == 1
            return ok and r.json()

        rows = by_member(await eventually(settled, timeout=60))
        assert rows[wx["data"]["member_id"]]["delivery"] == {**rows[wx["data"]["member_id"]]["delivery"],
                                                            "channel": "wechat", "transport": "console"}
        assert rows[visit["data"]["member_id"]]["door"]["specialist_id"] == specialist
        assert dead["data"]["member_id"] not in rows

        starts = datetime.now(timezone.utc) + timedelta(days=3)
        activity = envelope("ScheduleActivity", {"activity_id": uid("act"), "kind": "themed_party_day",
                                                 "title": "七一主题党日", "branch_ids": [branch],
                                                 "starts_at": starts.isoformat(),
                                                 "ends_at": (starts + timedelta(hours=2)).isoformat()})
        await answered(bus, "activities.commands", activity)

        async def meeting():
            r = await http.get(f"/api/v1/notices/activity:{activity['data']['activity_id']}/status")
            return r.status_code == 200 and r.json()["summary"]["recipients"] == 3 and r.json()

        status = await eventually(meeting, timeout=60)
        assert status["title"] == "主题党日通知：七一主题党日"
