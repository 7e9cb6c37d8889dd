"""Has every fact published upstream before a moment reached this service's own projection?

A fact can reach a service by a longer road than what it must be weighed against: a member's
away period goes `members.commands` → members → `members.events` → notifications' events
pipeline, a notice `notifications.commands` → notifications, one hop. Kafka orders nothing across
topics, so when members lags (a rebalance after a crash: the 45 s session timeout) the delivery
worker acted on a notice before the away period published before it had arrived, and addressed
the member otherwise than a run without the lag (docs/reliability.md, finding 20).

The fence walks the road stage by stage. A stage is one hop or several side by side (reporting's
alerts weigh member facts and activity facts: `members.commands` and `activities.commands` first,
then both events topics). A walk starts at a moment T with the end offsets of the first stage's
topics; it passes a hop once the hop's consumer group has committed past them (a group commits
after its transaction and after its outbox was published, so every record before them has been
handled and what it caused is on the next topic), and the stage once every hop of it passed; then
it takes the end offsets of the next stage's topics, and so on. When the last stage passes, every
fact published before T is in the projection. Walks follow one another, so `passed(since)`
answers for anything first seen at `since` after at most two walks (a few polls when nothing lags).

Not exact, by design, where the road forks: a command held for a reference (`_parked_*`) or a
record left in an outbox by a failed publish is committed past before it is on the next topic.
A group that has never committed anything (the service is not deployed, or has not started) is
passed by; a hop that does not pass within `max_wait_s` is given up, logged, so nothing waits
for good behind a service that is down.
"""
import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared import metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hop:
    topic: str  # where the facts are published (the deployment's full name)
    group: str  # the consumer group whose commits say they were handled (full name)


class Offsets(Protocol):
    async def end_offsets(self, topic: str) -> dict[int, int]:
        """{partition: the offset the next record will get}."""
        ...

    async def committed(self, group: str) -> dict[str, dict[int, int]]:
        """{topic: {partition: the group's committed offset}} of the partitions it has committed."""
        ...


Stage = Sequence[Hop]  # hops passed side by side


@dataclass
class _Walk:
    started: float
    stage: int
    waiting: list[tuple[Hop, dict[int, int]]] | None  # the stage's hops not passed yet, with their
    #                                                   end offsets once taken
    given_up: bool = False


class CausalFence:
    def __init__(self, offsets: Offsets, road: Sequence[Stage], max_wait_s: float,
                 clock: Callable[[], float] = time.monotonic, name: str = "facts"):
        self.offsets, self.road, self.max_wait_s, self.clock = offsets, [list(s) for s in road], max_wait_s, clock
        self.name = name  # its metric's label
        self._passed: float | None = None  # the start of the last walk that passed every hop
        self._walk: _Walk | None = None
        self._listeners: list[Callable[[], None]] = []

    def on_pass(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever a walk ends (`passed` may say yes to more): what waits for the
        fence goes on at once, not at its next look."""
        self._listeners.append(listener)

    def passed(self, since: float) -> bool:
        """Whether every fact published before `since` (a `clock()` reading) has arrived."""
        return self._passed is not None and self._passed >= since

    def passed_at(self, moment: datetime) -> bool:
        """`passed` for a moment in time (a fence on the wall clock, `time.time`): a held command's
        first handling, read back from the database by any instance."""
        return self.passed(moment.timestamp())

    async def run(self, every_s: float) -> None:
        """Walk on every `every_s` seconds, for good (a runtime task of its own: a long round of the
        delivery worker must not hold a notice waiting for the fence). The broker away is logged
        once every 30 s; the walk waits, then is given up after `max_wait_s`."""
        warned_at = float("-inf")
        try:
            while True:
                try:
                    await self.advance()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    if time.monotonic() - warned_at >= 30:
                        warned_at = time.monotonic()
                        log.warning("causal fence: the broker could not be asked; trying again", exc_info=True)
                await asyncio.sleep(every_s)
        finally:
            close = getattr(self.offsets, "close", None)
            if close is not None:
                await close()

    async def advance(self) -> None:
        """Take the walk as far as the groups' commits allow now; start the next one after it.
        When the broker cannot be asked, the walk waits, and is given up after `max_wait_s` too."""
        if self._walk is None:
            self._walk = _Walk(self.clock(), 0, None)
        walk = self._walk
        try:
            await self._walk_on(walk)
        except Exception:
            if self.clock() - walk.started < self.max_wait_s:
                raise
            log.warning("causal fence: the broker did not answer in time; going on without it", exc_info=True)
            self._end(walk, "given_up")

    async def _walk_on(self, walk: _Walk) -> None:
        while True:
            stage = self.road[walk.stage]
            if walk.waiting is None:
                walk.waiting = [(hop, await self.offsets.end_offsets(hop.topic)) for hop in stage]
            # One question per group: reporting's second stage has two hops of one group.
            commits = {group: await self.offsets.committed(group) for group in {hop.group for hop, _ in walk.waiting}}
            walk.waiting = [(hop, ends) for hop, ends in walk.waiting
                            if self._behind(commits[hop.group].get(hop.topic, {}), ends)]
            if walk.waiting:
                if self.clock() - walk.started < self.max_wait_s:
                    return
                for hop, _ends in walk.waiting:
                    log.warning("causal fence: a hop did not pass in time; going on without it",
                                extra={"topic": hop.topic, "group": hop.group})
                walk.given_up = True
            walk.stage, walk.waiting = walk.stage + 1, None
            if walk.stage == len(self.road):
                self._end(walk, "given_up" if walk.given_up else "passed")
                return

    @staticmethod
    def _behind(committed: dict[int, int], ends: dict[int, int]) -> bool:
        """Whether a hop's group, with these commits on its topic, has yet to commit past these end
        offsets (a group that never committed on the topic is passed by)."""
        return bool(committed) and any(end > 0 and committed.get(p, 0) < end for p, end in ends.items())

    def _end(self, walk: _Walk, outcome: str) -> None:
        self._passed, self._walk = walk.started, None
        metrics.fence_walked(self.name, outcome, self.clock() - walk.started)
        for listener in self._listeners:
            listener()

    def runtime_task(self, every_s: float):
        """The fence walked on as a runtime task of its own (`Runtime(tasks=...)`), asked by the
        service's pipelines and background work."""
        async def walk_the_fence(_runtime) -> None:
            await self.run(every_s)

        return walk_the_fence


def broker_fence(settings, service: str, road: Sequence[Stage], max_wait_s: float, name: str) -> CausalFence:
    """A fence asked of the deployment's broker as the service's principal, on the wall clock
    (`passed_at`: a moment read back from the database by any instance)."""
    from shared.kafka_auth import client_kwargs
    offsets = KafkaOffsets(settings.kafka_bootstrap_servers, client_kwargs(settings, f"sunsetred-{service}"))
    return CausalFence(offsets, road, max_wait_s, clock=time.time, name=name)


class KafkaOffsets:
    """`Offsets` from the broker: a consumer without a group for the end offsets, the admin
    client for a group's commits (DESCRIBE on the topic and the group: shared/infra/kafka_acls.py).
    Started on first use; `close()` when done."""

    def __init__(self, bootstrap: str, client_kwargs: dict, timeout_s: float = 5.0):
        self.bootstrap, self.client_kwargs, self.timeout_s = bootstrap, client_kwargs, timeout_s
        self._consumer = self._admin = None

    async def _clients(self):
        from aiokafka import AIOKafkaConsumer
        from aiokafka.admin import AIOKafkaAdminClient
        if self._consumer is None:
            consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                        request_timeout_ms=int(self.timeout_s * 1000), **self.client_kwargs)
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap,
                                        request_timeout_ms=int(self.timeout_s * 1000), **self.client_kwargs)
            await consumer.start()
            try:
                await admin.start()
            except BaseException:
                await consumer.stop()
                raise
            self._consumer, self._admin = consumer, admin
        return self._consumer, self._admin

    async def end_offsets(self, topic: str) -> dict[int, int]:
        from shared.messaging.kafka import known_partitions
        consumer, _ = await self._clients()
        tps = (await known_partitions(consumer, [topic])).get(topic)
        if not tps:
            return {}
        ends = await asyncio.wait_for(consumer.end_offsets(tps), self.timeout_s)
        return {tp.partition: n for tp, n in ends.items()}

    async def committed(self, group: str) -> dict[str, dict[int, int]]:
        _, admin = await self._clients()
        got = await asyncio.wait_for(admin.list_consumer_group_offsets(group), self.timeout_s)
        by_topic: dict[str, dict[int, int]] = {}
        for tp, meta in got.items():
            if meta.offset >= 0:
                by_topic.setdefault(tp.topic, {})[tp.partition] = meta.offset
        return by_topic

    async def close(self) -> None:
        consumer, admin, self._consumer, self._admin = self._consumer, self._admin, None, None
        if admin is not None:
            await admin.close()
        if consumer is not None:
            await consumer.stop()
