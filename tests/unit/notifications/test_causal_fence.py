"""The causal fence (shared/messaging/causal_fence.py) and the delivery worker behind it: a notice's
deliveries are first acted on only once the member facts published before they were found due have
reached notifications, however far members lags (docs/reliability.md, finding 20)."""
from datetime import timedelta

import pytest

from services.notifications.adapters.documents import DELIVERIES
from shared.messaging.causal_fence import CausalFence, Hop
from tests.unit.notifications.test_worker_ids import DUE, store, worker

pytestmark = pytest.mark.unit
ROAD = [[Hop("members.commands", "members-commands")], [Hop("members.events", "notifications-events")]]


class Broker:
    """End offsets of the topics and the groups' commits, as the test sets them."""

    def __init__(self):
        self.ends = {t: {0: 0, 1: 0} for t in ("members.commands", "members.events",
                                                "activities.commands", "activities.events")}
        self.commits: dict[tuple[str, str], dict[int, int]] = {}  # (group, topic): {partition: offset}
        self.down = False
        self.asked: list[str] = []  # the groups whose commits were asked, in order

    def publish(self, topic: str, partition: int, n: int = 1) -> None:
        self.ends[topic][partition] += n

    def handle(self, group: str, topic: str) -> None:
        """The group catches up with its topic."""
        self.commits[group, topic] = dict(self.ends[topic])

    async def end_offsets(self, topic: str) -> dict[int, int]:
        if self.down:
            raise ConnectionError("broker away")
        return dict(self.ends[topic])

    async def committed(self, group: str) -> dict[str, dict[int, int]]:
        if self.down:
            raise ConnectionError("broker away")
        self.asked.append(group)
        return {topic: dict(offsets) for (g, topic), offsets in self.commits.items() if g == group}


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def fence(broker: Broker, clock: Clock, max_wait_s: float = 120) -> CausalFence:
    return CausalFence(broker, ROAD, max_wait_s, clock)


async def test_a_fact_published_before_passes_the_fence_only_once_both_hops_have_handled_it():
    broker, clock = Broker(), Clock()
    broker.handle("members-commands", "members.commands")  # both groups have committed before
    broker.handle("notifications-events", "members.events")
    broker.publish("members.commands", 1)  # a member's away period, not handled yet
    f = fence(broker, clock)
    seen = clock()
    await f.advance()
    assert not f.passed(seen)
    clock.t += 1
    broker.handle("members-commands", "members.commands")  # members handled it and published its event…
    broker.publish("members.events", 0)
    await f.advance()
    assert not f.passed(seen)  # …which notifications has not projected yet
    clock.t += 1
    broker.handle("notifications-events", "members.events")
    await f.advance()
    assert f.passed(seen)
    assert not f.passed(clock())  # a notice found due later waits for a walk started after it
    await f.advance()
    await f.advance()
    assert f.passed(clock())  # nothing lags: the next walk passes at once


async def test_each_walk_that_ends_tells_those_waiting_for_the_fence():
    """A command held until the facts before it arrive is tried again when the fence walks on, not
    at the end of its pause (shared/messaging/pipeline.py, `upstream_moved`)."""
    broker, clock = Broker(), Clock()
    broker.handle("members-commands", "members.commands")
    broker.handle("notifications-events", "members.events")
    broker.publish("members.commands", 0)
    f = fence(broker, clock)
    told: list[float] = []
    f.on_pass(lambda: told.append(clock()))
    await f.advance()
    assert told == []  # members has not handled it yet
    clock.t += 1
    broker.handle("members-commands", "members.commands")
    await f.advance()
    assert told == [101.0] and f.passed(100.0)


async def test_the_second_hop_is_measured_when_the_first_has_passed_not_before():
    """An event published while members handled the fact (after the walk began) must be awaited too."""
    broker, clock = Broker(), Clock()
    broker.handle("members-commands", "members.commands")
    broker.handle("notifications-events", "members.events")
    broker.publish("members.commands", 0)
    f = fence(broker, clock)
    await f.advance()
    broker.handle("members-commands", "members.commands")
    broker.publish("members.events", 1)  # the fact's event, published after the walk started
    await f.advance()
    assert not f.passed(100.0)


async def test_a_group_that_never_committed_is_passed_by_and_a_hop_that_lags_too_long_is_given_up():
    broker, clock = Broker(), Clock()
    broker.publish("members.commands", 0, 5)  # members never ran here: nothing to wait for
    f = fence(broker, clock)
    await f.advance()
    assert f.passed(100.0)

    broker.handle("members-commands", "members.commands")
    broker.publish("members.commands", 0)  # then members stops handling
    g = fence(broker, clock, max_wait_s=120)
    await g.advance()
    clock.t += 119
    await g.advance()
    assert not g.passed(100.0)
    clock.t += 2
    await g.advance()
    assert g.passed(100.0)


async def test_a_stage_of_hops_side_by_side_passes_once_every_one_of_them_has():
    """Reporting's road: member and activity facts, each through its service, then both events
    topics through reporting's one group."""
    broker, clock = Broker(), Clock()
    road = [[Hop("members.commands", "members-commands"), Hop("activities.commands", "activities-commands")],
            [Hop("members.events", "reporting"), Hop("activities.events", "reporting")]]
    for group, topic in (("members-commands", "members.commands"), ("activities-commands", "activities.commands"),
                         ("reporting", "members.events"), ("reporting", "activities.events")):
        broker.handle(group, topic)
    broker.publish("members.commands", 0)  # a payment…
    broker.publish("activities.commands", 1)  # …and an attendance, neither handled yet
    f = CausalFence(broker, road, 120, clock)
    await f.advance()
    broker.handle("members-commands", "members.commands")
    broker.publish("members.events", 0)
    await f.advance()
    assert not f.passed(100.0)  # activities has not handled its command
    broker.handle("activities-commands", "activities.commands")
    broker.publish("activities.events", 1)
    broker.handle("reporting", "members.events")
    await f.advance()
    assert not f.passed(100.0)  # reporting has projected the payment, not the attendance
    broker.handle("reporting", "activities.events")
    broker.asked.clear()
    await f.advance()
    assert f.passed(100.0)
    assert broker.asked == ["reporting"]  # the stage's two hops of one group: its commits asked once


async def test_a_broker_away_holds_the_fence_then_is_given_up_after_the_longest_wait():
    broker, clock = Broker(), Clock()
    broker.down = True
    f = fence(broker, clock, max_wait_s=30)
    with pytest.raises(ConnectionError):
        await f.advance()
    clock.t += 31
    await f.advance()
    assert f.passed(100.0)


class Gate:
    """A fence the test opens: `passed(since)` for anything first seen before `opened_at`."""

    def __init__(self):
        self.opened_at: float | None = None
        self.t = 10.0

    def clock(self) -> float:
        return self.t

    def passed(self, since: float) -> bool:
        return self.opened_at is not None and self.opened_at >= since


def test_a_notices_untouched_deliveries_wait_for_the_fence_and_those_under_way_do_not():
    uow = store()
    w = worker(uow)
    w.fence = gate = Gate()
    due = list(uow.docs[DELIVERIES].values())
    under_way = {**due[0], "notice_id": "n2", "_id": "n2|m1", "attempts": [{"channel": "sms", "attempt": 1,
                 "state": "failed", "started_at": "2026-03-02T02:00:00+00:00", "error": "5xx"}], "attempt": 1}
    assert w._past_the_fence([*due, under_way]) == [under_way]  # a retry goes; n1 waits, first seen at 10
    gate.t = 20.0
    gate.opened_at = 5.0  # a walk that started before n1 was first found due
    assert w._past_the_fence(due) == []
    gate.opened_at = 10.0  # every fact published before n1 was found due has arrived
    assert w._past_the_fence(due) == due


async def test_without_a_fence_the_worker_acts_on_what_is_due_at_once():
    uow = store()
    w = worker(uow)
    assert w.fence is None
    due = list(uow.docs[DELIVERIES].values())
    assert w._past_the_fence(due) == due
    assert await w._deliver_round(due, DUE + timedelta(minutes=1)) == 2  # m1's SMS, m4's email


async def test_send_notice_waits_until_the_facts_published_before_its_first_handling_have_arrived():
    """The handler asks the pipeline's fence about the moment the command was first handled (when
    it was held, for a held command tried again), and raises NotYet before then."""
    from datetime import datetime, timezone

    from services.notifications.handlers import HANDLERS
    from shared.contracts.parsing import parse_object
    from shared.errors import Rejected
    from shared.messaging.pipeline import Context, NotYet
    from tests.support.fake_uow import FakeUnitOfWork, _Pipeline
    from tests.support.messages import envelope

    held_at = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)
    passed_up_to = [datetime(2026, 3, 2, 1, 59, tzinfo=timezone.utc)]

    class Fenced(_Pipeline):
        def arrived(self, moment):
            return passed_up_to[0] >= moment

    cmd = parse_object(envelope("SendNotice", {"notice_id": "n1", "title": "通知", "body": "请学习。",
                                               "category": "document", "audience": {"org_ids": ["b1"], "member_ids": []}}))
    uow = FakeUnitOfWork()
    with pytest.raises(NotYet):
        await HANDLERS["SendNotice"].handle(cmd.message, Context(Fenced(), cmd.envelope, uow, held_since=held_at))
    assert uow.outbox == []
    passed_up_to[0] = held_at  # a walk that started when it was held has passed: on to addressing,
    with pytest.raises(Rejected) as refused:  # where the branch, unknown here, is a missing reference
        await HANDLERS["SendNotice"].handle(cmd.message, Context(Fenced(), cmd.envelope, uow, held_since=held_at))
    assert refused.value.reason == "unknown_reference"


async def test_the_fence_walks_on_its_own_through_a_broker_away_and_closes_its_clients_when_stopped():
    import asyncio

    broker, closed = Broker(), []
    broker.close = lambda: closed.append(True) or asyncio.sleep(0)
    broker.down = True
    f = CausalFence(broker, ROAD, max_wait_s=0.05)  # the monotonic clock
    walking = asyncio.ensure_future(f.run(every_s=0.01))
    await asyncio.sleep(0.2)
    assert f.passed(0.0)  # the broker away longer than the longest wait: given up, not stuck
    walking.cancel()
    with pytest.raises(asyncio.CancelledError):
        await walking
    assert closed == [True]


def _fenced_worker():
    """A worker behind a fence the test opens, over one due notice's delivery; and its reads."""
    from datetime import datetime, timezone

    from tests.unit.test_chaos_findings import _notices, _worker

    class Sent:
        transport = "console"

        async def send(self, note) -> None:
            pass

    uow = _notices("n1", due=datetime.now(timezone.utc) - timedelta(seconds=1))
    w = _worker(uow, Sent())
    reads = []
    find = w.db[DELIVERIES].find
    w.db[DELIVERIES].find = lambda query: reads.append(query) or find(query)
    w.fence = gate = Gate()
    return uow, w, reads, gate


async def test_the_worker_looks_at_what_the_fence_held_back_again_once_it_walks_on_without_reading_it_again():
    """Every delivery due behind the fence: the next round looks at nothing (it read the same thousand
    deliveries each second, to act on none) until the fence walks on; then at the deliveries it held
    back, without asking the database (with a backlog, asking again from the earliest every other
    round was 20 s a round at 100,000 members), and after FENCE_LOOK_AGAIN_S the database again."""
    uow, w, reads, gate = _fenced_worker()
    assert await w.tick() == 0 and len(reads) == 1  # n1 first found due at 10, the fence not past it
    assert await w.tick() == 0 and len(reads) == 1  # not looked at again: the fence has not walked
    w._fence_moved.set()  # a walk ended, one that started before n1 was found: still behind
    assert await w.tick() == 0 and len(reads) == 1 and [d["_id"] for d in w._held_back] == ["n1|m1"]
    gate.opened_at = 10.0
    w._fence_moved.set()  # a walk that started after: n1 goes on, from what was held back
    assert await w.tick() == 1 and len(reads) == 1 and w._held_back == []
    assert uow.docs[DELIVERIES]["n1|m1"]["state"] != "pending"


async def test_what_the_fence_held_back_too_long_is_read_again_from_the_database(monkeypatch):
    from services.notifications import delivery_worker

    uow, w, reads, gate = _fenced_worker()
    assert await w.tick() == 0 and len(reads) == 1
    gate.opened_at = 10.0
    monkeypatch.setattr(delivery_worker, "FENCE_LOOK_AGAIN_S", 0.0)  # the fence never said it walked
    assert await w.tick() == 1 and len(reads) == 2
    assert uow.docs[DELIVERIES]["n1|m1"]["state"] != "pending"
