"""What every service runs: a MongoDB client, a Kafka broker, and its consuming pipelines.

Each service's bootstrap (its composition root) builds a `Runtime` with its own handler
tables, indexes and routes; the FastAPI lifespan starts and stops it.
"""
import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from shared.infra.topics import ensure_topics
from shared.messaging.kafka import KafkaPublisher, attach, make_broker
from shared.messaging.pipeline import Handler, Pipeline
from shared.settings import Settings
from shared.topics import EVENTS_OF

log = logging.getLogger(__name__)


@dataclass
class Subscription:
    """One consuming pipeline: the topics it reads and the handlers of the types it cares for."""

    name: str
    topics: list[str]
    handlers: dict[str, Handler]
    mode: str  # "commands" or "events"


@dataclass
class Runtime:
    service: str
    settings: Settings
    subscriptions: list[Subscription]
    setup_db: Callable[[Any], Awaitable[None]] | None = None
    # Long-running loops started with the service (delivery workers, daily evaluations). Each
    # gets the runtime; it should loop until cancelled, catching and logging its own errors.
    tasks: list[Callable[["Runtime"], Awaitable[None]]] = field(default_factory=list)
    client: Any = field(init=False, default=None)
    db: Any = field(init=False, default=None)
    broker: KafkaBroker = field(init=False)
    pipelines: list[Pipeline] = field(init=False, default_factory=list)
    started: bool = field(init=False, default=False)
    lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)
    _running: list[asyncio.Task] = field(init=False, default_factory=list)
    extras: dict[str, Any] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        s = self.settings
        # socketTimeoutMS: a call the server never answers fails (and the batch is retried) instead
        # of blocking the service for good.
        self.client = AsyncMongoClient(s.mongodb_url, tz_aware=True, serverSelectionTimeoutMS=5000,
                                       socketTimeoutMS=120_000)
        self.db = self.client[s.database_name(self.service)]
        self.broker = make_broker(s, self.service)
        publisher = KafkaPublisher(self.broker)
        for sub in self.subscriptions:
            p = Pipeline(
                name=sub.name, db=self.db, publisher=publisher, handlers=sub.handlers, mode=sub.mode,
                source=f"sunsetred-{self.service}", events_topic=EVENTS_OF[self.service],
                topic_prefix=s.topic_prefix, district=s.district, attempts=s.handler_attempts,
                on_stage=_fault_pause(s) if s.fault_pause_at else None, lock=self.lock,
            )
            self.pipelines.append(p)
            attach(self.broker, p, sub.topics, s, group_id=f"sunsetred-{self.service}-{sub.name}",
                   title=f"{self.service}: {sub.name}")

    async def start(self) -> None:
        await ensure_topics(self.settings)
        if self.setup_db:
            await self.setup_db(self.db)
        await self.broker.connect()
        for p in self.pipelines:  # finish what a crash left journaled before consuming anything new
            await p.recover()
        await self.broker.start()
        self._running = [asyncio.create_task(t(self), name=getattr(t, "__name__", "task")) for t in self.tasks]
        self.started = True
        log.info("started", extra={"database": self.db.name, "topics_prefix": self.settings.topic_prefix})

    async def stop(self) -> None:
        self.started = False
        for t in self._running:
            t.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        await self.broker.stop()
        await self.client.close()


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
