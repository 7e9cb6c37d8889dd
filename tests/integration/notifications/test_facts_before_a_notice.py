"""A notice is addressed from the member facts published before it, however far members lags
(docs/contract-additions.md, notifications; the causal fence): with members stopped, a death is
published, then a notice to the member's branch. Notifications holds the notice until members is
back and its `MemberDied` has been projected, then addresses it to the living only: no
`NoticeAddressed` names the deceased, and `NoticeCreated` counts the living.

Without the fence (NOTIFY_FACTS_FENCE_MAX_WAIT_SECONDS=0) the notice was addressed at once to both
members, the deceased withdrawn later but already named by NoticeAddressed and the count: the test
fails so (checked)."""
import asyncio

import pytest

from tests.integration.notifications.conftest import send_notice
from tests.support.messages import Bus, answered, caused_by, envelope
from tests.support.scenario import register, tree, uid
from tests.support.services import ServiceProcess, start_all

pytestmark = pytest.mark.integration


async def test_a_notice_waits_for_a_death_published_before_it_while_members_is_down(infra):
    prefix = f"f{uid('')[-8:]}."
    procs = await start_all(["members", "notifications"], infra, prefix, {"NOTIFY_POLL_SECONDS": "0.2"})
    bus = Bus(infra.kafka, prefix)
    await bus.start()
    try:
        ids, cmds = tree(1)
        for cmd in cmds:
            await answered(bus, "members.commands", cmd)
        branch = ids["branches"][0]
        alive = register(branch, email="alive@example.cn", preferred_channel="email")
        dying = register(branch, email="dying@example.cn", preferred_channel="email")
        for cmd in (alive, dying):
            await answered(bus, "members.commands", cmd)

        procs["members"].stop()  # members lags: what is published now waits for it
        await bus.send("members.commands", envelope("RecordMemberDeath", {"member_id": dying["data"]["member_id"],
                                                                          "on": "2026-02-01"}))
        notice = send_notice(uid("notice"), org_ids=[branch])
        await bus.send("notifications.commands", notice)
        await asyncio.sleep(4)  # notifications would have addressed it by now
        early = await bus.events("notifications.events", lambda es: False, timeout=2)
        assert caused_by(early, notice) == []  # held, not addressed, nothing said

        procs["members"] = ServiceProcess("members", infra, prefix).start()
        await procs["members"].wait_ready()
        said = await bus.events("notifications.events",
                                lambda es: any(e["type"] == "NoticeCreated" for e in caused_by(es, notice)), timeout=90)
        by_type = {e["type"]: e["data"] for e in caused_by(said, notice)}
        assert by_type["NoticeCreated"]["recipient_count"] == 1
        assert by_type["NoticeAddressed"]["member_ids"] == [alive["data"]["member_id"]]
    finally:
        await bus.stop()
        for p in procs.values():
            p.stop()
