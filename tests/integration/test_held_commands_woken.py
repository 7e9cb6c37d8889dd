"""A held command is tried again as soon as this process writes what it waits for, whatever its
pause (shared/messaging/parking.py, `woken`): on a real replica set, with the pipeline's own
parked collection. No Kafka: the records are handed to the pipeline as its subscriber would."""
import json
import time
import uuid
from datetime import datetime, timezone

import pytest

from shared.contracts.envelope import Envelope
from shared.errors import unknown_reference
from shared.messaging import parking
from shared.messaging.pipeline import Handler, NotYet, Pipeline
from shared.messaging.records import Incoming
from tests.support.messages import envelope
from tests.support.scenario import register

pytestmark = pytest.mark.integration


class Relay:
    async def publish(self, docs):
        pass


async def registered(msg, ctx):
    if await ctx.get("orgs", msg.branch_id) is None:
        raise unknown_reference(f"branch {msg.branch_id} is not known", "data.branch_id")
    ctx.put("members", {"_id": msg.member_id, "branch_id": msg.branch_id})


@pytest.fixture
async def pipeline(store):
    p = Pipeline(name="p", service="test", store=store, relay=Relay(), mode="commands",
                 handlers={"RegisterMember": Handler(registered, lambda m: [("orgs", m.branch_id)])},
                 source="sunsetred-test", events_topic="test.events", reference_wait_s=600, parked_retry_max_s=3600)
    await parking.setup(store.db[p.parked])
    return p


async def test_a_held_command_is_tried_as_soon_as_a_unit_of_this_process_writes_what_it_wants(pipeline):
    p, db = pipeline, pipeline.store.db
    env = register("b-late")
    await p.process([Incoming("members.commands", 0, 0, env["data"]["member_id"].encode(), json.dumps(env).encode())])
    assert await db[p.parked].count_documents({}) == 1
    for _ in range(12):  # tried often enough, and still waiting: its next try an hour away
        p._retries.waited(env["id"], time.monotonic())
    await p.sweep_parked()
    assert await db[p.parked].count_documents({}) == 1  # not due: untouched

    async def establish(ctx):
        ctx.put("orgs", {"_id": "b-late"})
    cause = Envelope.model_construct(id=str(uuid.uuid4()), type="Establish.unit", schema_version=1,
                                     occurred_at=datetime.now(timezone.utc), district="x-district", correlation_id=None)
    await p.run_unit(cause, establish)
    await p.sweep_parked()  # the next pass: woken by the unit's write, whatever its pause
    assert await db[p.parked].count_documents({}) == 0
    assert await db["members"].find_one({"_id": env["data"]["member_id"]}) is not None



async def test_a_command_held_until_the_facts_before_it_arrive_is_tried_when_the_fence_walks_on(store):
    """`NotYet` holds a command (notifications' SendNotice behind the member facts). The fence walking
    on wakes the timer's sweep (`upstream_moved`), only while such a command is held, and the pass
    tries it whatever its pause, once the fence has passed its first handling."""
    passed_at = [datetime(2000, 1, 1, tzinfo=timezone.utc)]

    async def not_yet(msg, ctx):
        if not ctx.upstream_arrived():
            raise NotYet("facts on their way")
        ctx.put("members", {"_id": msg.member_id, "branch_id": msg.branch_id})

    p = Pipeline(name="p", service="test", store=store, relay=Relay(), mode="commands",
                 handlers={"RegisterMember": Handler(not_yet)}, source="sunsetred-test", events_topic="test.events",
                 reference_wait_s=600, parked_retry_max_s=3600, arrived=lambda moment: moment <= passed_at[0])
    await parking.setup(store.db[p.parked])
    db = store.db
    p.upstream_moved()
    assert not p.wake.is_set()  # nothing held
    env = register("b-1")
    await p.process([Incoming("members.commands", 0, 0, env["data"]["member_id"].encode(), json.dumps(env).encode())])
    [held] = await db[p.parked].find().to_list(None)
    assert held["upstream"] is True
    for _ in range(12):  # its next try an hour away
        p._retries.waited(env["id"], time.monotonic())
    p.upstream_moved()
    assert p.wake.is_set()
    p.wake.clear()
    await p.sweep_parked()
    assert await db[p.parked].count_documents({}) == 1  # the fence has not passed its first handling
    passed_at[0] = datetime.now(timezone.utc)
    await p.sweep_parked()
    assert await db[p.parked].count_documents({}) == 0
    assert await db["members"].find_one({"_id": env["data"]["member_id"]}) is not None
    await p.sweep_parked()  # what is held is renewed at each pass
    p.wake.clear()
    p.upstream_moved()
    assert not p.wake.is_set()  # nothing held any more


async def test_a_held_command_is_woken_by_what_another_pipeline_of_the_process_writes(pipeline):
    """Activities holds a command for a member its members-events pipeline has not projected yet:
    the projection's commit, in another pipeline of the same process, wakes it (`neighbours`)."""
    p, db = pipeline, pipeline.store.db
    other = Pipeline(name="q", service="test", store=p.store, relay=Relay(), mode="events", handlers={},
                     source="sunsetred-test", events_topic="test.events", reference_wait_s=600)
    p.neighbours = other.neighbours = [p]  # as the runtime sets them: the pipelines that hold commands
    env = register("b-projected")
    await p.process([Incoming("members.commands", 0, 0, env["data"]["member_id"].encode(), json.dumps(env).encode())])
    for _ in range(12):  # its next try an hour away
        p._retries.waited(env["id"], time.monotonic())
    await p.sweep_parked()
    assert await db[p.parked].count_documents({}) == 1

    async def project(ctx):
        ctx.put("orgs", {"_id": "b-projected"})
    cause = Envelope.model_construct(id=str(uuid.uuid4()), type="Project.unit", schema_version=1,
                                     occurred_at=datetime.now(timezone.utc), district="x-district", correlation_id=None)
    await other.run_unit(cause, project)
    assert p.wake.is_set()
    await p.sweep_parked()
    assert await db[p.parked].count_documents({}) == 0
    assert await db["members"].find_one({"_id": env["data"]["member_id"]}) is not None


async def test_a_command_that_makes_what_the_first_held_of_its_key_waits_for_is_handled_ahead_of_it(store):
    """docs/reliability.md, finding 39: a sender's retry put a command (here `RegisterMember`) behind
    one of the same key that waits for what it makes (`UpdateMemberProfile` of that member). Held
    behind it in the key's order, it waited with it until `REFERENCE_WAIT`, and the first was
    rejected `unknown_reference`. Now the pass handles it ahead, then the first. One behind that
    makes nothing the first waits for (`RecordMemberDeath`, itself waiting) keeps its place."""
    async def register_member(msg, ctx):
        ctx.put("members", {"_id": msg.member_id, "branch_id": msg.branch_id, "profile": {}})

    async def update_profile(msg, ctx):
        m = await ctx.get("members", msg.member_id)
        if m is None:
            raise unknown_reference(f"member {msg.member_id} is not known", "data.member_id")
        ctx.put("members", m | {"profile": msg.changes})

    async def record_death(msg, ctx):
        m = await ctx.get("members", msg.member_id)
        if m is None or not m.get("profile"):  # here: its turn is after the update's
            raise unknown_reference(f"member {msg.member_id} is not known", "data.member_id")
        ctx.put("members", m | {"died_on": msg.on.isoformat()})

    p = Pipeline(name="p", service="test", store=store, relay=Relay(), mode="commands",
                 handlers={"RegisterMember": Handler(register_member),
                           "UpdateMemberProfile": Handler(update_profile, lambda m: [("members", m.member_id)]),
                           "RecordMemberDeath": Handler(record_death, lambda m: [("members", m.member_id)])},
                 source="sunsetred-test", events_topic="test.events", reference_wait_s=600, parked_retry_max_s=3600)
    await parking.setup(store.db[p.parked])
    db = store.db
    reg = register("b-1")
    member = reg["data"]["member_id"]
    update = envelope("UpdateMemberProfile", {"member_id": member, "changes": {"phone": "13800000000"}})
    death = envelope("RecordMemberDeath", {"member_id": member, "on": "2026-01-02"})

    def record(env, offset):
        return Incoming("members.commands", 0, offset, member.encode(), json.dumps(env).encode())

    await p.process([record(update, 1), record(death, 2), record(reg, 3)])  # the registration came again, last
    assert await db[p.parked].count_documents({}) == 3  # the first waits; the two behind it, in order
    await p.sweep_parked()
    assert p._pass_outcomes == {"waiting": 1, "handled ahead": 1}
    assert await db[p.parked].count_documents({}) == 2
    await p.sweep_parked()  # the next pass: the first is woken by what was made for it, then the one behind
    assert p._pass_outcomes == {"handled": 2}
    assert await db[p.parked].count_documents({}) == 0
    stored = await db["members"].find_one({"_id": member})
    assert (stored["profile"], stored["died_on"]) == ({"phone": "13800000000"}, "2026-01-02")

