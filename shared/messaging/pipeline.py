"""The one way every service consumes Kafka: a batch in, effects and events durable, then commit.

For each batch: finish any journaled batch left by a crash; parse every record; drop ids the
inbox has seen (effectively once); prefetch the documents the handlers will need in one query
per collection; run each message's handler against the unit of work; journal and apply the
result (see `journal.py`); only then does the caller commit the offsets.

Records keep their order within a partition, hence within a key. A record that is not an
envelope goes to `<topic>.dlq` unchanged; a command that breaks its schema or a rule gets a
`CommandRejected`; a handler that keeps failing is retried, then dead-lettered with the error.
None of these stops the records behind it.
"""
import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from aiokafka.errors import KafkaError
from pymongo.errors import PyMongoError

from shared import logs
from shared.contracts.base import Message, lookup
from shared.contracts.envelope import Envelope
from shared.contracts.parsing import (
    Invalid, NotEnvelope, Parsed, derived_id, encode, envelope_for, parse,
)
from shared.contracts.reporting import CommandRejected
from shared.errors import Rejected
from shared.messaging.journal import Journal, Publisher
from shared.messaging.records import Incoming, Outgoing
from shared.messaging.unit_of_work import Key, UnitOfWork
from shared.topics import dlq

log = logging.getLogger(__name__)
# Infrastructure failures fail the whole batch, which is then consumed again (nothing is lost).
TRANSIENT = (PyMongoError, KafkaError, ConnectionError, TimeoutError)


class Context:
    """What a handler gets: the message's envelope, the documents, and a way to emit events."""

    def __init__(self, pipeline: "Pipeline", envelope: Envelope, uow: UnitOfWork):
        self.envelope = envelope
        self.uow = uow
        self._pipeline = pipeline
        self._emitted = 0

    async def get(self, coll: str, _id: str) -> dict | None:
        return await self.uow.get(coll, _id)

    def put(self, coll: str, doc: dict) -> None:
        self.uow.put(coll, doc)

    def delete(self, coll: str, _id: str) -> None:
        self.uow.delete(coll, _id)

    def emit(self, event: Message, topic: str | None = None) -> Envelope:
        self._emitted += 1
        env = envelope_for(event, id=derived_id(self.envelope.id, self._emitted), cause=self.envelope,
                           source=self._pipeline.source, district=self._pipeline.district)
        self.uow.send(Outgoing(self._pipeline.topic_name(topic or event.TOPIC), event.key().encode(),
                               encode(env), {"content-type": "application/json", "message-type": env.type}))
        return env


@dataclass
class Handler:
    handle: Callable[[Any, Context], Awaitable[None]]
    # The documents the handler will read, so the batch can fetch them in one query each.
    wants: Callable[[Any], Iterable[Key]] = lambda _msg: ()


@dataclass
class Pipeline:
    name: str  # e.g. "members.commands": names the journal and inbox collections
    db: Any
    publisher: Publisher
    handlers: dict[str, Handler]
    mode: Literal["commands", "events"]
    source: str  # e.g. "sunsetred-members"
    events_topic: str  # where this service's CommandRejected go (unprefixed)
    topic_prefix: str = ""
    district: str = "x-district"
    attempts: int = 3
    on_stage: Callable[[str], Awaitable[None]] | None = None
    # One writer at a time per service: every pipeline and background unit of a runtime shares
    # this lock, because documents are written back as whole snapshots.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    journal: Journal = field(init=False)
    _journal_clean: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.journal = Journal(self.db, self.name.replace(".", "_"), self.on_stage)

    def topic_name(self, base: str) -> str:
        return f"{self.topic_prefix}{base}"

    async def recover(self) -> int:
        n = await self.journal.recover(self.publisher)
        self._journal_clean = True
        return n

    async def _recover_if_needed(self) -> None:
        """A journaled batch can be left only at start-up or after a batch failed half-way, so
        only then is the journal read, not before every batch."""
        if not self._journal_clean:
            await self.recover()

    async def process(self, records: Sequence[Incoming]) -> None:
        async with self.lock, self._marks_unclean_on_failure():
            await self._process(records)

    @asynccontextmanager
    async def _marks_unclean_on_failure(self):
        try:
            yield
        except BaseException:
            self._journal_clean = False
            raise

    async def run_unit(self, cause: Envelope, work: Callable[[Context], Awaitable[None]],
                       wants: Iterable[Key] = ()) -> None:
        """Run work that no Kafka record started (a timer, a delivery worker) with the same
        guarantees: its writes and events are journaled, applied and published together.
        `cause` names the unit; give it a stable id (e.g. derived from what is being done) so
        that a unit run twice derives the same event ids. Rejections are not expected here."""
        async with self.lock, self._marks_unclean_on_failure():
            await self._recover_if_needed()
            uow = UnitOfWork(self.db)
            await uow.prefetch(wants)
            with _log_context(cause.id, cause.correlation_id):
                await work(Context(self, cause, uow))
            uow.commit_message()
            await self.journal.commit([], uow.writes, uow.outbox, self.publisher, uow.is_new)

    async def _process(self, records: Sequence[Incoming]) -> None:
        clock = _Clock()
        await self._recover_if_needed()
        parsed = [parse(r.value) for r in records]
        ids = [p.envelope.id if isinstance(p, Parsed) else p.id if isinstance(p, Invalid) else r.position
               for r, p in zip(records, parsed)]
        seen = await self.journal.seen(list(set(ids)))
        clock.lap("dedupe")
        uow = UnitOfWork(self.db)
        await uow.prefetch(k for p, i in zip(parsed, ids) if isinstance(p, Parsed) and i not in seen
                           for k in self._wants(p))
        clock.lap("prefetch")
        consumed: list[str] = []
        for record, result, msg_id in zip(records, parsed, ids):
            if msg_id in seen:
                log.info("duplicate message ignored", extra={"dup_id": msg_id})
                continue
            seen.add(msg_id)
            consumed.append(msg_id)
            await self._one(record, result, uow)
        clock.lap("handle")
        await self.journal.commit(consumed, uow.writes, uow.outbox, self.publisher, uow.is_new)
        clock.lap("commit")
        log.info("batch done", extra={"records": len(records), "new": len(consumed), "writes": len(uow.writes),
                                      "events": len(uow.outbox), "ms": clock.laps})

    def _wants(self, p: Parsed) -> Iterable[Key]:
        h = self.handlers.get(p.envelope.type)
        return h.wants(p.message) if h else ()

    async def _one(self, record: Incoming, result: NotEnvelope | Invalid | Parsed, uow: UnitOfWork) -> None:
        if isinstance(result, NotEnvelope):
            log.warning("record is not an envelope: dead-lettered", extra={"reason": result.reason})
            uow.send(self._dead_letter(record, "not_envelope", result.reason))
            uow.commit_message()
            return
        if isinstance(result, Invalid):
            with _log_context(result.id, result.correlation_id):
                if self.mode == "commands":
                    self._reject(uow, result.id, result.type, result.raw, "invalid", result.errors)
                else:
                    uow.send(self._dead_letter(record, "invalid", str(result.errors)))
                uow.commit_message()
            return
        env = result.envelope
        with _log_context(env.id, env.correlation_id or env.id):
            handler = self.handlers.get(env.type)
            if handler is None:
                if self.mode == "commands":
                    msg = f"{env.type} is not handled on this topic"
                    self._reject(uow, env.id, env.type, env.model_dump(mode="json"), "invalid",
                                 [{"field": "type", "message": msg}])
                    uow.commit_message()
                return  # an event type this service has no use for
            for attempt in range(1, self.attempts + 1):
                try:
                    await handler.handle(result.message, Context(self, env, uow))
                    uow.commit_message()
                    log.info("handled", extra={"type": env.type})
                    return
                except Rejected as r:
                    uow.rollback_message()
                    log.info("rejected", extra={"type": env.type, "reason": r.reason, "errors": r.errors})
                    self._reject(uow, env.id, env.type, env.model_dump(mode="json"), r.reason, r.errors)
                    uow.commit_message()
                    return
                except TRANSIENT:
                    uow.rollback_message()
                    raise
                except Exception as exc:  # a bug or a case nobody foresaw: retry, then dead-letter
                    uow.rollback_message()
                    log.exception("handler failed", extra={"type": env.type, "attempt": attempt})
                    if attempt == self.attempts:
                        uow.send(self._dead_letter(record, "handler_failed", f"{type(exc).__name__}: {exc}"))
                        uow.commit_message()

    def _reject(self, uow: UnitOfWork, command_id: str, command_type: str, raw: dict, reason: str,
                errors: list[dict[str, str]]) -> None:
        cause = Envelope.model_construct(
            id=command_id, type=command_type, occurred_at=_occurred_at(raw),
            district=raw.get("district") if isinstance(raw.get("district"), str) else self.district,
            correlation_id=raw.get("correlation_id") if isinstance(raw.get("correlation_id"), str) else None,
        )
        event = CommandRejected(command_id=command_id, command_type=command_type, reason=reason, errors=errors)
        env = envelope_for(event, id=derived_id(command_id, 0), cause=cause, source=self.source,
                           district=self.district)
        uow.send(Outgoing(self.topic_name(self.events_topic), _key_of(raw, command_id).encode(), encode(env),
                          {"content-type": "application/json", "message-type": env.type}))

    def _dead_letter(self, record: Incoming, reason: str, error: str) -> Outgoing:
        headers = {k: v.decode("utf-8", "replace") for k, v in record.headers}
        headers.update({
            "x-dlq-reason": reason, "x-dlq-error": error[:2000], "x-dlq-consumer": self.source,
            "x-original-topic": record.topic, "x-original-partition": str(record.partition),
            "x-original-offset": str(record.offset),
        })
        return Outgoing(dlq(record.topic), record.key, record.value or b"", headers)


def _occurred_at(raw: dict) -> datetime:
    value = raw.get("occurred_at")
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    return parsed if parsed and parsed.tzinfo else datetime.now(timezone.utc)


def _key_of(raw: dict, fallback: str) -> str:
    """The rejected command's aggregate key when it can be read, so the answer stays in order."""
    data = raw.get("data") if isinstance(raw.get("data"), dict) else {}
    cls = lookup(str(raw.get("type")), raw.get("schema_version") if isinstance(raw.get("schema_version"), int) else 1)
    value = data.get(cls.KEY) if cls else None
    return value if isinstance(value, str) and value else fallback


class _log_context:
    def __init__(self, message_id: str, correlation_id: str | None):
        self.values = (message_id, correlation_id)

    def __enter__(self):
        self.tokens = (logs.message_id.set(self.values[0]), logs.correlation_id.set(self.values[1]))

    def __exit__(self, *exc):
        logs.message_id.reset(self.tokens[0])
        logs.correlation_id.reset(self.tokens[1])


class _Clock:
    """Milliseconds spent in each phase of a batch, for the batch log line."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self.last) * 1000, 1)
        self.last = now
