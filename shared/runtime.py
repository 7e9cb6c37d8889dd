"""What every service runs: a MongoDB client, a Kafka broker, its consuming pipelines, the
outbox relay and the timer that retries held commands.

Each service's bootstrap (its composition root) builds a `Runtime` with its own handler
tables, indexes and routes; the FastAPI lifespan starts and stops it. Any number of runtimes of
a service may run at once: they share a consumer group per pipeline, and every write they make
is version-checked in a transaction, so nothing here is guarded by an in-process lock.
"""
import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from shared import metrics
from shared.infra import malloc
from shared.infra.db_commands import CommandTimer
from shared.infra.topics import ensure_topics
from shared.kafka_auth import source_keys_for
from shared.messaging import parking
from shared.messaging.causal_fence import CausalFence
from shared.messaging.failures import is_transient
from shared.messaging.kafka import KafkaPublisher, attach, consumer_group, make_broker, make_producer
from shared.messaging.mongo_uow import MongoStore
from shared.messaging.outbox import OutboxRelay
from shared.messaging.pipeline import Handler, Pipeline
from shared.messaging.tally import Tally
from shared.settings import Settings
from shared.topics import EVENTS_OF

log = logging.getLogger(__name__)

START_RETRY_MAX_S = 10.0  # the longest pause between two start-up attempts
SWEEP_GAP_S = 0.2  # the least time between two passes of the timer over the held commands


@dataclass
class Subscription:
    """One consuming pipeline: the topics it reads and the handlers of the types it cares for."""

    name: str
    topics: list[str]
    handlers: dict[str, Handler]
    mode: str  # "commands" or "events"
    # The pipeline's causal fence (Pipeline.arrived), for handlers that wait for facts published
    # before their command (notifications' SendNotice); each walk of it wakes what it holds.
    fence: CausalFence | None = None


@dataclass
class Runtime:
    service: str
    settings: Settings
    subscriptions: list[Subscription]
    setup_db: Callable[[Any], Awaitable[None]] | None = None
    # Long-running loops started with the service (delivery workers, daily evaluations). Each
    # gets the runtime; it should loop until cancelled, catching and logging its own errors.
    tasks: list[Callable[["Runtime"], Awaitable[None]]] = field(default_factory=list)
    # Counters the database keeps in step with a collection (shared/messaging/tally.py).
    tallies: list[Tally] = field(default_factory=list)
    # Collections whose large documents the units of work keep encoded between reads (unit_of_work.py).
    kept_encoded: frozenset[str] = frozenset()
    # Collections whose snapshots a batch writes ahead of its commit, in its transaction, while its
    # deferred work goes on (MongoStore.write_ahead).
    write_ahead: frozenset[str] = frozenset()
    # Documents that bring more with them into a batch, counted as that many towards the bound on
    # what a batch reads (Pipeline.read_weights).
    read_weights: dict[str, int] = field(default_factory=dict)
    client: Any = field(init=False, default=None)
    db: Any = field(init=False, default=None)
    broker: KafkaBroker = field(init=False)
    pipelines: list[Pipeline] = field(init=False, default_factory=list)
    started: bool = field(init=False, default=False)
    store: MongoStore = field(init=False)
    publisher: KafkaPublisher = field(init=False)
    relay: OutboxRelay = field(init=False)
    _running: list[asyncio.Task] = field(init=False, default_factory=list)
    extras: dict[str, Any] = field(init=False, default_factory=dict)
    sources: Any = field(init=False, default=None)

    def __post_init__(self) -> None:
        s = self.settings
        # socketTimeoutMS: a call the server never answers fails (and the batch is retried) instead
        # of blocking the service for good.
        self.client = AsyncMongoClient(s.mongodb_url, tz_aware=True, serverSelectionTimeoutMS=5000,
                                       socketTimeoutMS=120_000,
                                       event_listeners=[CommandTimer(self.service, s.mongo_slow_ms)])
        self.db = self.client[s.database_name(self.service)]
        self.broker = make_broker(s, self.service)
        # Who may send commands (None: no check, a PLAINTEXT development broker only).
        self.sources = source_keys_for(s)
        self.store = MongoStore(self.client, self.db, inbox_days=s.inbox_days, tallies=self.tallies,
                                kept_encoded=self.kept_encoded, write_ahead=self.write_ahead)
        # Everything the service publishes (the outbox, accepted HTTP commands) goes through one
        # producer of its own, which is replaced when it fails for good (KafkaPublisher).
        self.publisher = KafkaPublisher(make_producer(s, self.service))
        self.relay = OutboxRelay(self.store, self.publisher, self.service, s.instance(self.service))
        for sub in self.subscriptions:
            p = Pipeline(
                name=sub.name, service=self.service, store=self.store, relay=self.relay, handlers=sub.handlers,
                mode=sub.mode, source=f"sunsetred-{self.service}", events_topic=EVENTS_OF[self.service],
                topic_prefix=s.topic_prefix, district=s.district, attempts=s.handler_attempts,
                reference_wait_s=s.reference_wait, parked_retry_max_s=s.parked_retry_max_s, on_stage=_fault_pause(s) if s.fault_pause_at else None,
                max_documents=s.unit_max_documents, max_read_bytes=int(s.unit_max_read_mb * 2**20),
                max_read_documents=s.unit_max_read_documents, read_weights=self.read_weights,
                sources=self.sources if sub.mode == "commands" else None, arrived=sub.fence.passed_at if sub.fence else None,
            )
            if sub.fence is not None:
                sub.fence.on_pass(p.upstream_moved)
            self.pipelines.append(p)
            metrics.declare_pipeline(self.service, sub.name)
            attach(self.broker, p, sub.topics, s, group_id=consumer_group(self.service, sub.name),
                   title=f"{self.service}: {sub.name}")
        holding = [p for p in self.pipelines if p.holds_references]
        for p in self.pipelines:
            p.neighbours = holding  # what any of them writes may be what another's held commands wait for

    async def start(self) -> None:
        """Bring the service up, waiting for Kafka and MongoDB as long as they do not answer: an
        instance a supervisor starts during an outage (a broker restart, the database away) waits
        for them instead of exiting. A failure of another kind (a bug, a wrong setting) is raised."""
        tuned = malloc.tune()  # what a batch frees goes back to the system (shared/infra/malloc.py)
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._connect()
                break
            except Exception as exc:
                if not _worth_waiting_for(exc):
                    raise
                delay = min(0.5 * 2 ** attempt, START_RETRY_MAX_S)
                log.warning("start-up: Kafka or MongoDB does not answer; trying again",
                            extra={"attempt": attempt, "error_type": type(exc).__name__, "error": str(exc),
                                   "retry_in_s": delay})
                await self._disconnect_broker()
                await asyncio.sleep(delay)
        metrics.register_broker_lag(self.service, self.broker)
        tasks = [*self.tasks, _relay, _parked_sweeper]
        self._running = [asyncio.create_task(t(self), name=getattr(t, "__name__", "task")) for t in tasks]
        self.started = True
        log.info("started", extra={"database": self.db.name, "topics_prefix": self.settings.topic_prefix,
                                   "attempts": attempt, "malloc": tuned})

    async def _connect(self) -> None:
        """Topics, indexes, then the broker's producer and consumers; every step may be repeated."""
        await ensure_topics(self.settings, principal=f"sunsetred-{self.service}")
        await self.store.setup([p.name for p in self.pipelines])
        for p in self.pipelines:
            await parking.setup(self.db[p.parked])
        if self.setup_db:
            await self.setup_db(self.db)
        await self.publisher.start()
        await self.broker.connect()
        await self.broker.start()

    async def _disconnect_broker(self) -> None:
        """Leave no half-started consumers behind a failed attempt: the next one starts them afresh."""
        try:
            await self.broker.stop()
        except Exception:
            log.debug("stopping a half-started broker failed", exc_info=True)
        await self.publisher.stop()

    async def stop(self) -> None:
        self.started = False
        for t in self._running:
            t.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        await self.broker.stop()
        await self.publisher.stop()
        await self.client.close()


async def _relay(runtime: Runtime) -> None:
    await runtime.relay.run()


async def _parked_sweeper(runtime: Runtime) -> None:
    """Held commands whose reference came through another instance, or whose wait is over; and at
    once, those that a commit of this process woke (`Pipeline.wake`)."""
    while True:
        wakes = [asyncio.ensure_future(p.wake.wait()) for p in runtime.pipelines]
        try:
            await asyncio.wait(wakes, timeout=runtime.settings.parked_sweep_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in wakes:
                w.cancel()
        for p in runtime.pipelines:
            p.wake.clear()
        for p in runtime.pipelines:
            try:
                await p.sweep_parked()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("retrying held commands failed; trying again", exc_info=True)
        # Woken by every unit of a busy worker, the passes would follow one another: each reads the
        # held commands' outlines, so a pause between them (what woke meanwhile is taken together).
        await asyncio.sleep(SWEEP_GAP_S)


def _worth_waiting_for(exc: BaseException) -> bool:
    """Kafka or MongoDB away or not ready yet (a broker still starting answers with retriable errors)."""
    return is_transient(exc) or bool(getattr(exc, "retriable", False))


def pipeline(self_or_runtime: "Runtime", name: str) -> Pipeline:
    """The runtime's pipeline of that subscription name (for background units)."""
    return next(p for p in self_or_runtime.pipelines if p.name == name)


def _fault_pause(settings: Settings):
    from pathlib import Path

    async def on_stage(stage: str) -> None:
        if stage == settings.fault_pause_at and settings.fault_marker:
            Path(settings.fault_marker).write_text(stage)
            log.warning("fault injection: paused before commit, waiting to be killed", extra={"stage": stage})
            await asyncio.Event().wait()

    return on_stage
