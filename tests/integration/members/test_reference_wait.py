"""A district system publishes a whole tree and its members in one go, without waiting.

Keys give order per aggregate only, so a member's command may be consumed before its branch's.
The contract says such a command is held until the branch is established, and the commands
behind it with the same key wait too, in order. Here the members are even published *before*
the tree, the worst order a district system could produce.
"""
import asyncio

import pytest

from tests.support.messages import Bus, caused_by
from tests.support.scenario import register, tree
from tests.support.members_fixtures import command
from tests.support.services import ServiceProcess

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def patient_members(infra, run_id):
    """The members service with a wait long enough for the whole tree to arrive."""
    prefix = f"t{run_id}wait."
    proc = ServiceProcess("members", infra, prefix, {"REFERENCE_WAIT": "120s"}).start()
    await proc.wait_ready()
    bus = Bus(infra.kafka, prefix)
    await bus.start()
    yield proc, bus
    await bus.stop()
    proc.stop()


async def test_a_tree_and_its_members_published_at_once_all_register(patient_members):
    _proc, bus = patient_members
    ids, org_cmds = tree(4)
    regs = [register(ids["branches"][i % 4]) for i in range(60)]
    # A profile change right behind each of the first ten registrations: same key, must follow it.
    updates = [command("UpdateMemberProfile", member_id=r["data"]["member_id"], changes={"phone": "13800000000"})
               for r in regs[:10]]
    await bus.send("members.commands", *regs, *updates)
    await bus.send("members.commands", *reversed(org_cmds))  # children even before their parents
    wanted = [*org_cmds, *regs, *updates]
    events = await bus.events("members.events", lambda es: all(caused_by(es, c) for c in wanted), timeout=90)
    assert [e for e in events if e["type"] == "CommandRejected"] == []
    for r in regs:
        [ev] = caused_by(events, r)
        assert ev["type"] == "MemberRegistered"
    position = {e["id"]: i for i, e in enumerate(events)}
    for r, u in zip(regs, updates):
        [registered], [updated] = caused_by(events, r), caused_by(events, u)
        assert updated["type"] == "MemberProfileUpdated"
        assert position[registered["id"]] < position[updated["id"]]


async def test_a_reference_that_never_arrives_is_rejected_after_the_wait(infra, run_id):
    prefix = f"t{run_id}never."
    proc = ServiceProcess("members", infra, prefix, {"REFERENCE_WAIT": "2s"}).start()
    bus = Bus(infra.kafka, prefix)
    await bus.start()
    try:
        await proc.wait_ready()
        orphan = register("b-nowhere")
        follower = command("UpdateMemberProfile", member_id=orphan["data"]["member_id"], changes={"phone": "1"})
        await bus.send("members.commands", orphan, follower)
        events = await bus.events("members.events",
                                  lambda es: caused_by(es, orphan) and caused_by(es, follower), timeout=30)
        [rej] = caused_by(events, orphan)
        assert rej["type"] == "CommandRejected" and rej["data"]["reason"] == "unknown_reference"
        [rej2] = caused_by(events, follower)  # held behind it, then handled: its member never came
        assert rej2["data"]["reason"] == "unknown_reference"
    finally:
        await bus.stop()
        proc.stop()
