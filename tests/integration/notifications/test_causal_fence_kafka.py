"""The causal fence on the real broker, as notifications' own principal (its ACLs: DESCRIBE on
`members.commands` and on members' commands group): a command members has not handled holds the
fence; once members has handled it (and notifications' events group, absent here, is passed by),
the fence passes."""
import time

import pytest

from services.notifications.bootstrap import member_facts_road
from shared.kafka_auth import tool_credentials
from shared.messaging.causal_fence import CausalFence, KafkaOffsets
from shared.messaging.kafka import consumer_group
from shared.settings import Settings
from tests.support.messages import Bus, caused_by, envelope, eventually
from tests.support.scenario import uid
from tests.support.services import ServiceProcess

pytestmark = pytest.mark.integration


async def test_the_fence_waits_for_members_to_handle_what_was_published_before(infra, run_id):
    prefix = f"t{run_id}fence{uid('')[-6:]}."
    bus = Bus(infra.kafka, prefix)
    await bus.start()
    creds = tool_credentials(infra.kafka, "sunsetred-notifications")
    offsets = KafkaOffsets(infra.kafka, creds.kwargs() if creds else {})
    fence = CausalFence(offsets, member_facts_road(Settings(topic_prefix=prefix)), max_wait_s=600)
    members = ServiceProcess("members", infra, prefix).start()
    try:
        await members.wait_ready()
        first = envelope("RegisterMember", {"member_id": uid("m")})  # invalid (no name): answered, committed
        await bus.send("members.commands", first)
        await bus.events("members.events", lambda evs: caused_by(evs, first))
        group = prefix + consumer_group("members", "commands")
        await eventually(lambda: _committed(offsets, group, prefix), timeout=30)

        members.stop()  # what is published now waits for members
        second = envelope("RegisterMember", {"member_id": uid("m")})
        await bus.send("members.commands", second)
        seen = time.monotonic()
        await fence.advance()
        await fence.advance()
        assert not fence.passed(seen)

        members = ServiceProcess("members", infra, prefix).start()
        await members.wait_ready()
        await bus.events("members.events", lambda evs: caused_by(evs, second))

        async def passed() -> bool:
            await fence.advance()
            return fence.passed(seen)

        await eventually(passed, timeout=60)
    finally:
        members.stop()
        await offsets.close()
        await bus.stop()


async def _committed(offsets: KafkaOffsets, group: str, prefix: str) -> bool:
    return sum((await offsets.committed(group)).get(prefix + "members.commands", {}).values()) >= 1
