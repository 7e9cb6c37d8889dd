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
