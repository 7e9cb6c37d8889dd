"""The one way every service consumes Kafka: a batch in, one transaction, then the offsets.

For each batch: parse every record; drop ids the inbox has seen (effectively once); prefetch the
documents the handlers will need in one query per collection; run each message's handler
against the unit of work; then commit the state, the inbox and the outbox in ONE transaction
(`mongo_uow.py`). Only after it commits does `process` return, and the caller commit the
offsets; the outbox relay then publishes the batch's events (`outbox.py`).

Records keep their order within a partition, hence within a key. A record that is not an
envelope goes to `<topic>.dlq` unchanged; a command that breaks its schema or a rule gets a
`CommandRejected`; a command that names something not known yet is held until it is
(`parking.py`); a handler that keeps failing is retried, then dead-lettered with the error. A
batch that conflicts with another writer runs again on fresh reads; a batch whose commit fails
for a reason of its own is split, so that only the message at fault is dead-lettered. None of
these stops the records behind it.
"""
import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import ValidationError

from shared import logs, metrics
from shared.contracts.base import Message, lookup
from shared.contracts.envelope import Envelope
from shared.contracts.parsing import (
    Invalid, NotEnvelope, Parsed, derived_id, encode, envelope_for, parse, parse_json_object, parse_object,
)
from shared.contracts.reporting import CommandRejected
from shared.contracts.types import moment_in_range
from shared.errors import Rejected
from shared.messaging import parking
from shared.messaging.failures import is_contention, is_transient
from shared.messaging.mongo_uow import MongoStore, MongoUnitOfWork
from shared.messaging.outbox import OutboxRelay
from shared.messaging.records import MAX_RECORD_BYTES, Incoming, Outgoing
from shared.messaging.repository import Collection, Repository, T
from shared.messaging.unit_of_work import Key, StagedUnitOfWork, UnitOfWork
from shared.topics import dlq

log = logging.getLogger(__name__)
DEFERRED_ROUNDS = 5  # deferred work may defer more work; this bounds the chain
CONTENTION_ATTEMPTS = 8
# A batch of more records than this that loses to another writer is run again only once, then
# split in halves (`_in_halves`): a large batch's transaction lasts seconds, and against the
# delivery worker, which commits every few hundred milliseconds on the same deliveries, it lost
# eight times in a row, each time after handling its 2,000 records again (notifications' CPU
# doubled in such runs of the end-to-end benchmark: its two groups of runs).
LARGE_BATCH_RECORDS = 64
LARGE_BATCH_ATTEMPTS = 2
# The first part of a batch's documents read at once (`_prefetch_within`), the least after, and
# how much larger than the one before a part may be: a batch of 2,000 commands names some 5,000
# documents, read in two parts (each a query per collection, one after the other).
FIRST_READ_PART = 1000
MIN_READ_PART = 50
READ_PART_GROWTH = 4
YIELD_EVERY = 20  # messages handled between two turns of the event loop
NAMED_ROUNDS = 2  # rounds of reads named by what was read (`Handler.then`)
# Documents written, kept to wake the held commands that want them (beyond: they wait their pause),
# and the passes a retry makes over the held commands that what it handled woke.
MAX_WRITTEN_KEPT = 50_000
WAKE_ROUNDS = 3


class NotYet(Exception):
    """A command its handler cannot act on yet, for a reason that passes by itself: facts published
    before it are still on their way through other services (the causal fence, causal_fence.py), or
    the service's own work on what it names is under way (a notice addressed a page at a time).
    A commands pipeline holds it as it holds one waiting for a reference, with the commands of the
    same key behind it, and tries it again; it is never rejected for it (the fence gives up a hop
    that lags too long, so the wait ends)."""


class DeferredFailed(Exception):
    """Deferred work of a batch failed for a reason that is not transient."""


class EventTooLarge(Exception):
    """An event larger than the broker takes. In the outbox it could never be published, and the
    relay, which publishes oldest first, would hold every later event of the service behind it: the
    message that causes it is refused instead (a command) or dead-lettered (an event)."""

    def __init__(self, event_type: str, size: int):
        super().__init__(f"the {event_type} event it causes would be {size} bytes, more than the broker takes "
                         f"({MAX_RECORD_BYTES})")


class Context:
    """What a handler gets: the message's envelope, the documents, and a way to emit events."""

    def __init__(self, pipeline: "Pipeline", envelope: Envelope, uow: UnitOfWork, scope: str | None = None,
                 held_since: datetime | None = None):
        self.envelope = envelope
        self.uow = uow
        self._pipeline = pipeline
        self._emitted = 0
        self._scope = scope  # deferred work: its events' ids must not collide with its cause's
        # When the message was first handled: when it was held, for a held command tried again.
        self.held_since = held_since or datetime.now(timezone.utc)

    def upstream_arrived(self) -> bool:
        """Whether every fact published upstream before this message was first handled has come
        through to this service (the pipeline's causal fence; True when it has none). A command
        that must not act before: `raise NotYet(...)` when this is False."""
        arrived = self._pipeline.arrived
        return arrived is None or arrived(self.held_since)

    def defer(self, key: Any, work: Callable[["Context"], Awaitable[None]]) -> None:
        """Run `work` once at the end of the batch for every message that asks with this `key`
        (e.g. ("member", id): recompute a member's figures once, not once per event). It runs in
        the batch's unit of work, before the commit, with the last asking message as its cause."""
        pipeline, envelope, uow, scope = self._pipeline, self.envelope, self.uow, f"deferred:{key!r}"

        async def run() -> None:
            await work(Context(pipeline, envelope, uow, scope))

        self.uow.defer(key, run, envelope)

    def repo(self, coll: Collection[T]) -> Repository[T]:
        """The typed repository of a collection, over this batch's unit of work."""
        return Repository(self.uow, coll)

    async def get(self, coll: str, _id: str) -> dict | None:
        return await self.uow.get(coll, _id)

    async def read(self, coll: str, _id: str) -> dict | None:
        """The document, shared with the unit of work's cache: never change it (see `get`)."""
        return await self.uow.read(coll, _id)

    def put(self, coll: str, doc: dict, guarded: bool = False, changed: list[str] | None = None) -> None:
        """`guarded`: a document derived from one this message writes; `changed`: the paths at which
        it differs from the document as read (`UnitOfWork.put`)."""
        self.uow.put(coll, doc, guarded=guarded, changed=changed)

    def delete(self, coll: str, _id: str, guarded: bool = False) -> None:
        self.uow.delete(coll, _id, guarded=guarded)

    def inc(self, coll: str, _id: str, counts: dict[str, int], on_insert: dict | None = None) -> None:
        """`$inc` counters (dotted paths allowed), upserted; `on_insert` must not overlap them."""
        self.uow.inc(coll, _id, counts, on_insert)

    def emit(self, event: Message, topic: str | None = None, *, basis: str | None = None,
             id: str | None = None) -> Envelope:
        """Stage an event. Its id derives from the cause's id, its place among the cause's events
        and the emitting service (`source`: services reacting to one event emit distinct ids); give
        `basis` (unique among them, e.g. a member id) when that place could vary, e.g. events per
        recipient of a set whose order is not fixed; or give the `id` itself when it must not
        depend on the cause at all (e.g. derived from an alert's own identity)."""
        self._emitted += 1
        if id is None:
            n = f"k:{basis}" if basis is not None else (
                f"{self._scope}:{self._emitted}" if self._scope else self._emitted)
            id = derived_id(self.envelope.id, n, by=self._pipeline.source)
        env = envelope_for(event, id=id, cause=self.envelope,
                           source=self._pipeline.source, district=self._pipeline.district)
        record = Outgoing(self._pipeline.topic_name(topic or event.TOPIC), event.key().encode(), encode(env),
                          {"content-type": "application/json", "message-type": env.type})
        if record.size > MAX_RECORD_BYTES:
            raise EventTooLarge(env.type, record.size)
        self.uow.send(record)
        return env


Reader = Callable[[str, str], dict | None]


@dataclass
class Handler:
    handle: Callable[[Any, Context], Awaitable[None]]
    # The documents the handler will read, so the batch can fetch them in one query each.
    wants: Callable[[Any], Iterable[Key]] = lambda _msg: ()
    # …and those that only the documents read say (a resolution names its request, and the request
    # its member, whose index the handler changes): given the message, its envelope and a reader of
    # the documents read so far (as read, never to be changed), the further documents to read, for
    # every record of the batch at once (`_prefetch_named`). A guess is enough: a document it
    # misses is read when the handler asks.
    then: Callable[[Any, Envelope, Reader], Iterable[Key]] | None = None


Outcome = Literal["handled", "rejected", "dead_lettered", "parked", "waiting", "ignored"]


@dataclass
class Pipeline:
    name: str  # e.g. "commands": names the inbox and the parking collections
    service: str
    store: MongoStore
    relay: OutboxRelay
    handlers: dict[str, Handler]
    mode: Literal["commands", "events"]
    source: str  # e.g. "sunsetred-members"
    events_topic: str  # where this service's CommandRejected go (unprefixed)
    topic_prefix: str = ""
    district: str = "x-district"
    attempts: int = 3
    # How long a command naming something unknown is held before it is rejected (0: never held).
    reference_wait_s: float = 600
    # A batch whose handlers brought more documents than this into its unit of work (beyond those
    # its records name, prefetched) is committed after the record that took it past, and the
    # records behind go on in another transaction (bounds a batch's memory).
    max_documents: int = 5000
    # …and a batch whose records name more than this many bytes of documents (as stored) reads
    # those of its first records only, and leaves the rest to the transactions after it: a
    # district notice reaches reporting as a record per branch naming its members, so a batch
    # that catches up on one names every member of the district. 0: no limit.
    max_read_bytes: int = 0
    # …and no more than this many documents (0: no limit): 16 MB of small documents are many
    # (settings: `unit_max_read_documents`).
    max_read_documents: int = 0
    # …where a document of one of these collections counts as this many: what it brings into the
    # batch unread, written by the work it causes (reporting's members: its adapters/documents.py).
    read_weights: dict[str, int] = field(default_factory=dict)
    on_stage: Callable[[str], Awaitable[None]] | None = None
    # The registry of senders' keys (shared.kafka_auth.SourceKeys): a commands pipeline answers a
    # command whose sender it cannot prove `not_allowed`. None: no check (PLAINTEXT development).
    sources: Any = None
    # Whether every fact published upstream before a moment has arrived (a CausalFence's
    # `passed_at`), for handlers that must not act before (`Context.upstream_arrived`). None: none.
    arrived: Callable[[datetime], bool] | None = None
    parked: str = field(init=False)
    # A held command waiting this long since it was last tried is tried again at the latest (after
    # every batch and every sweep sooner, at first: parking.Retries).
    parked_retry_max_s: float = 4.0
    # Held commands as parsed, by their document's id and bytes: parsing each one at every retry
    # was a twentieth of a busy service's time.
    _parsed_parked: dict = field(init=False, default_factory=dict)
    # Of the last pass over the held commands, for its log: outcomes, and the types that went on.
    _pass_outcomes: dict = field(init=False, default_factory=dict)
    _pass_types: dict = field(init=False, default_factory=dict)
    _retries: parking.Retries = field(init=False)
    _outlines: parking.Outlines = field(init=False, default_factory=parking.Outlines)  # of the held commands
    # Batches of this pipeline under way in this process: the timer's sweep of held commands
    # stands aside meanwhile (`sweep_parked`).
    _batches_running: int = field(init=False, default=0)
    # One transaction of this pipeline at a time in this process, its batches' and its background
    # units' (`_contended`), in the order they asked. Run side by side, a unit and a batch wrote the
    # same documents and one lost: in 38 minutes of the 100,000-member demo reporting ran its batches
    # (up to 2,000 records) again 17 times and its branch evaluations 3 times, split 4 batches in
    # halves, and its RSS went from 200 to 475 MB in the six minutes that saw 9 of those 20. Instances
    # still race each other; the conditional writes settle that.
    _turn: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)
    # Documents this process's transactions of the pipeline wrote since its last pass over the held
    # commands: a held command that wants one of them is tried at the next pass (`_retry_parked`).
    _written: set = field(init=False, default_factory=set)
    # What the held commands want (renewed at each pass, which every batch ends with: those held,
    # and those the batch holds), and the event that wakes the timer's sweep at once when a commit writes one of them: a unit
    # of the delivery worker creating the deliveries that acknowledgements wait for, say, while no
    # batch runs to retry them at its end.
    _held_wants: set = field(init=False, default_factory=set)
    wake: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    # The pipelines of the same process that hold commands (set by the runtime): each commit tells
    # them what it wrote (`note_written`). A member that activities' members-events pipeline
    # projects is what its commands held for that member wait for. None: this pipeline alone.
    neighbours: list | None = field(init=False, default=None)
    # Whether a command is held until the facts published before it arrive (renewed at each pass):
    # the fence walking on then wakes the sweep (`upstream_moved`).
    _awaiting_upstream: bool = field(init=False, default=False)
    # Whether the last batch committed had a message the inbox had seen (`_batch`); a process's
    # first batch is where a crash before the offsets' commit leaves its duplicates.
    _duplicates_last: bool = field(init=False, default=True)

    def __post_init__(self) -> None:
        self.parked = parking.collection(self.name)
        self._retries = parking.Retries(self.parked_retry_max_s)

    def topic_name(self, base: str) -> str:
        return f"{self.topic_prefix}{base}"

    @property
    def holds_references(self) -> bool:
        return self.mode == "commands" and self.reference_wait_s > 0

    # ---- entry points -------------------------------------------------------------------------

    async def process(self, records: Sequence[Incoming]) -> None:
        """Returns once the batch's effects are committed; raises when the batch must be consumed
        again (the database or broker is unreachable)."""
        started = time.perf_counter()
        self._batches_running += 1
        try:
            await self._in_batches(records)
        except Exception as exc:
            if is_transient(exc) or (is_contention(exc) and len(records) == 1):
                raise
            log.warning("batch could not be committed whole: committing it in halves",
                        extra={"error": f"{type(exc).__name__}: {exc}", "records": len(records)})
            await self._in_halves(records)
        finally:
            self._batches_running -= 1
        metrics.observe_batch(self.service, self.name, time.perf_counter() - started)

    async def _in_halves(self, records: Sequence[Incoming]) -> None:
        """A batch that could not be committed whole goes again as two halves, each split again
        while it fails. A batch that loses to other writers is smaller, so quicker and likelier to
        win, at each split; a record that fails for its own reason ends alone and is dead-lettered
        (`_alone`) after about log2(n) splits, not n transactions (finding 21: a batch of 2,000
        contended records went one transaction each, for minutes). A record that keeps losing even
        alone holds back the records of its key (their order) but not the others; the batch then
        fails, and is consumed again: what was committed is in the inbox and is skipped."""
        held: set[bytes | None] = set()
        lost: list[Exception] = []
        await self._split(list(records), held, lost)
        if lost:
            raise lost[0]

    async def _split(self, records: list[Incoming], held: set[bytes | None], lost: list[Exception]) -> None:
        half = len(records) // 2
        for part in (records[:half], records[half:]):
            part = [r for r in part if r.key not in held]
            if len(part) == 1:
                try:
                    await self._alone(part[0])
                except Exception as exc:
                    if not is_contention(exc):
                        raise
                    held.add(part[0].key)
                    lost.append(exc)
            elif part:
                try:
                    await self._in_batches(part)
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    await self._split(part, held, lost)

    async def run_unit(self, cause: Envelope, work: Callable[[Context], Awaitable[None]],
                       wants: Iterable[Key] = ()) -> None:
        """Run work that no Kafka record started (a timer, a delivery worker) with the same
        guarantees: its writes and events commit together, and it runs again on fresh reads when
        another writer got there first (so `work` must read what it needs through the context).
        `cause` names the unit; give it a stable id (e.g. derived from what is being done) so
        that a unit run twice derives the same event ids. Rejections are not expected here."""
        wants = list(wants)

        async def once() -> None:
            uow = self.store.unit()
            await uow.prefetch(wants)
            with _log_context(cause.id, cause.correlation_id):
                await work(Context(self, cause, uow))
            uow.commit_message()
            await self._run_deferred(uow)
            await self._commit(uow, [])
            log.info("unit done", extra={"pipeline": self.name, "unit": cause.type, "events": len(uow.outbox),
                                         "documents": uow.size(), "rss_mb": metrics.resident_mb()})

        await self._contended(once, unit=cause.type)

    async def sweep_parked(self) -> None:
        """Retry held commands (their reference may have arrived through another instance, or
        through another pipeline while this one is idle) and reject those whose wait is over. Run
        by a timer.

        Every batch retries the held commands at its end, so while one of this process's batches
        runs the sweep has nothing to add, and it stands aside: run beside a batch it retried the
        same held commands, and one of the two lost the race and ran again (a batch of 2,000
        records, 2-4 s, three times in a year published at once). This spares work only: a sweep
        or batch of another instance still races, and the conditional writes settle it."""
        if not self.holds_references or self._batches_running:
            return

        async def once() -> None:
            clock, uow = _Clock(), self.store.unit()
            if await self._retry_parked(uow, set()):
                clock.lap("handle")
                await self._run_deferred(uow)
                clock.lap("deferred")
                await self._commit(uow, [])
                clock.lap("commit")
                log.info("held commands retried", extra={"pipeline": self.name, "outcomes": self._pass_outcomes,
                                                         "types": self._pass_types,
                                                         "events": len(uow.outbox), "documents": uow.size(),
                                                         "ms": clock.laps})

        await self._contended(once, unit="held commands")

    # ---- the batch ------------------------------------------------------------------------------

    async def _contended(self, run: Callable[[], Awaitable[None]], attempts: int = CONTENTION_ATTEMPTS,
                         unit: str = "batch") -> None:
        """`unit`: what lost, for the log: a batch of records, or a background unit's type."""
        for attempt in range(1, attempts + 1):
            try:
                async with self._turn:
                    return await run()
            except Exception as exc:
                if not is_contention(exc) or attempt == attempts:
                    raise
                metrics.retried(self.service, self.name, "conflict")
                log.info("write conflict with another writer: running the batch again",
                         extra={"pipeline": self.name, "unit": unit, "attempt": attempt, "error": str(exc)[:300]})
                await asyncio.sleep(random.uniform(0, 0.02 * 2 ** attempt))

    async def _in_batches(self, records: Sequence[Incoming]) -> None:
        """The records in one transaction, or in several in a row when their documents would take
        one past `max_documents` (each committed before the next begins: the order of a key holds)."""
        rest = list(records)
        while rest:
            attempts = LARGE_BATCH_ATTEMPTS if len(rest) > LARGE_BATCH_RECORDS else CONTENTION_ATTEMPTS
            rest = await self._contended(lambda rest=rest: self._batch(rest), attempts)

    async def _batch(self, records: Sequence[Incoming]) -> list[Incoming]:
        """Handle and commit the records; returns those left for another transaction (the unit of
        work got too large: `max_documents`)."""
        clock = _Clock()
        records, parsed, ignored = self._parse(records)
        records, parsed, refused = self._senders(records, parsed)
        ids = [_message_id(r, p) for r, p in zip(records, parsed)]
        uow = self.store.unit()
        messages = [p for p in parsed if isinstance(p, Parsed)]
        # The inbox, the held keys and the documents the records name, asked at once: three queries
        # the database answers side by side rather than one after the other. Duplicates come in
        # runs (a partition consumed again after a crash or a rebalance): after a batch that had
        # some, the inbox is asked first, and only the documents of the records it has not seen
        # are read (a batch of 2,000 duplicates read 1.1-1.7 s of documents it never used).
        def wants(seen: set[str]) -> list[list[Key]]:
            return [list(self._wants(p)) if isinstance(p, Parsed) and i not in seen else []
                    for p, i in zip(parsed, ids)]
        if self._duplicates_last:
            seen = await self.store.seen(self.name, list(set(ids)))
            waiting, fit = await asyncio.gather(self._keys_waiting(messages),
                                                self._prefetch_within(uow, wants(seen)))
        else:
            seen, waiting, fit = await asyncio.gather(
                self.store.seen(self.name, list(set(ids))), self._keys_waiting(messages),
                self._prefetch_within(uow, wants(set())))
        total = len(records)
        if fit < total:
            records, parsed, ids, cut = records[:fit], parsed[:fit], ids[:fit], list(records[fit:])
        else:
            cut = []
        prefetched = uow.size()  # what the records name themselves: a few each, bounded by the batch
        # What those documents name counts as what the handlers bring (`max_documents`): at 100,000
        # members a batch of member facts names thousands of orgs' notice indexes.
        await self._prefetch_named(uow, [p for p, i in zip(parsed, ids) if isinstance(p, Parsed) and i not in seen])
        clock.lap("reads")
        consumed: list[str] = []
        outcomes: dict[str, int] = {"ignored": ignored} if ignored else {}
        for record, result, reason in refused:
            self._not_allowed(uow, record, result, reason)
            outcomes["rejected"] = outcomes.get("rejected", 0) + 1
        for n, (record, result, msg_id) in enumerate(zip(records, parsed, ids), 1):
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let the consumer's heartbeat and the HTTP routes run
            if msg_id in seen:
                log.info("duplicate message ignored", extra={"dup_id": msg_id})
                outcomes["duplicate"] = outcomes.get("duplicate", 0) + 1
                continue
            seen.add(msg_id)
            consumed.append(msg_id)
            outcome = await self._one(record, result, uow, waiting=waiting)
            if outcome == "parked" and isinstance(result, Parsed):
                waiting.add(result.message.key())
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if uow.size() - prefetched > self.max_documents and n < len(records):
                rest = list(records[n:]) + cut
                break
        else:
            rest = cut
        if self.holds_references:
            await self._retry_parked(uow, {i for i in consumed})
        clock.lap("handle")
        await self._run_deferred(uow)
        clock.lap("deferred")
        await self._commit(uow, consumed)
        clock.lap("commit")
        self._duplicates_last = "duplicate" in outcomes
        for outcome, n in outcomes.items():
            if outcome in metrics.OUTCOMES:
                metrics.count(self.service, self.name, outcome, n)
        # `documents`: what the unit of work held (cut at `max_documents`); `rss_mb`: the process's
        # memory after it, to tell which batches raise it.
        log.info("batch done", extra={"pipeline": self.name, "records": total - len(rest), "new": len(consumed),
                                      "outcomes": outcomes, "events": len(uow.outbox), "documents": uow.size(),
                                      "read_mb": round(uow.bytes_read / 2**20, 1),
                                      # where a large read came from (the largest collections)
                                      "read_mb_by": {c: round(b / 2**20, 1) for c, b in sorted(
                                          uow.bytes_by_collection.items(), key=lambda x: -x[1])[:3]
                                          if b >= 2**20},
                                      # what a large batch holds (the largest collections)
                                      "documents_by": dict(sorted(
                                          uow.held_by_collection().items(), key=lambda x: -x[1])[:4])
                                      if uow.size() >= 10_000 else {},
                                      "rss_mb": metrics.resident_mb(), "ms": clock.laps, "left": len(rest)})
        return rest

    async def _alone(self, record: Incoming) -> None:
        """One record as its own transaction; if even that cannot be committed, its effects are
        dropped and the record is dead-lettered with the error, in a transaction of its own."""
        for attempt in range(1, self.attempts + 1):
            try:
                return await self._contended(lambda: self._batch([record]))
            except Exception as exc:
                if is_transient(exc) or is_contention(exc):
                    raise
                error = f"{type(exc).__name__}: {exc}"
                log.warning("record could not be committed", extra={"attempt": attempt, "error": error[:500]})
        result = parse(record.value)
        uow = self.store.unit()
        uow.send(self._dead_letter(record, "commit_failed", error))
        uow.commit_message()
        await self._contended(lambda: self._commit(uow, [_message_id(record, result)]))
        metrics.count(self.service, self.name, "dead_lettered")

    async def _run_deferred(self, uow: MongoUnitOfWork) -> None:
        """The batch's deferred work, once per key. A failure here cannot be pinned on one message
        of the batch, so it fails the batch as the message's own: the batch is then committed
        record by record, and the record whose work keeps failing is dead-lettered. What the work
        is done with may be written ahead of the commit meanwhile (`MongoStore.write_ahead`)."""
        try:
            await self._deferred_rounds(uow)
        except BaseException:
            await self.store.discard(uow)
            raise

    async def _deferred_rounds(self, uow: MongoUnitOfWork) -> None:
        for _round in range(DEFERRED_ROUNDS):
            due = uow.take_deferred()
            if not due:
                return
            for key, cause, run in due:
                with _log_context(cause.id if cause else "", cause.correlation_id if cause else None):
                    try:
                        await run()
                        uow.commit_message()
                        await self.store.write_ahead(uow)
                    except Exception as exc:
                        uow.rollback_message()
                        if is_transient(exc) or is_contention(exc):
                            raise
                        log.exception("deferred work failed", extra={"key": repr(key)})
                        raise DeferredFailed(f"deferred work {key!r} failed: {type(exc).__name__}: {exc}") from exc
        raise DeferredFailed(f"deferred work still deferring more after {DEFERRED_ROUNDS} rounds")

    async def _commit(self, uow: MongoUnitOfWork, consumed: list[str]) -> None:
        try:
            await self._stage("handled")
        except BaseException:
            await self.store.discard(uow)
            raise
        try:
            written = await self.store.commit(uow, self.name, consumed)
        except BaseException:
            self._outlines.forget()
            raise
        if self.holds_references:
            self._outlines.committed(uow.pending(self.parked), time.monotonic())
        told = self.neighbours if self.neighbours is not None else ([self] if self.holds_references else [])
        if told:
            keys = uow.written_keys()
            for p in told:
                p.note_written(keys)
        await self._stage("committed")
        await self.relay.publish(written)
        await self._stage("published")

    async def _stage(self, name: str) -> None:
        if self.on_stage:
            await self.on_stage(name)

    def _parse(self, records: Sequence[Incoming]) -> tuple[list[Incoming], list, int]:
        """The records to handle, each parsed, and how many were left out: on an events pipeline,
        a well-formed envelope of a type this service has no handler for is of no use to it, so it
        is neither validated (its owner's consumers do that) nor kept in the inbox (replayed, it
        does nothing either): most of what reporting and notifications read is of no use to them."""
        kept: list[Incoming] = []
        parsed: list = []
        for r in records:
            obj = parse_json_object(r.value)
            if (self.mode == "events" and isinstance(obj, dict) and isinstance(obj.get("type"), str)
                    and obj["type"] not in self.handlers and isinstance(obj.get("id"), str)):
                continue
            kept.append(r)
            parsed.append(obj if isinstance(obj, NotEnvelope) else parse_object(obj))
        return kept, parsed, len(records) - len(kept)

    def _senders(self, records: list[Incoming], parsed: list) -> tuple[list[Incoming], list, list]:
        """Split off the commands whose sender is not proven (shared.kafka_auth): they are answered
        `not_allowed` and never enter the inbox, so a forged copy cannot take a genuine command's id."""
        if self.sources is None or self.mode != "commands":
            return records, parsed, []
        kept_r, kept_p, refused = [], [], []
        for r, p in zip(records, parsed):
            if isinstance(p, (Parsed, Invalid)):
                raw_source = p.envelope.source if isinstance(p, Parsed) else p.raw.get("source")
                message_id = p.envelope.id if isinstance(p, Parsed) else p.id
                reason = self.sources.refusal(message_id, raw_source, r.value or b"", r.headers, self.source)
                if reason:
                    refused.append((r, p, reason))
                    continue
            kept_r.append(r)
            kept_p.append(p)
        return kept_r, kept_p, refused

    def _not_allowed(self, uow: MongoUnitOfWork, record: Incoming, result: Parsed | Invalid, reason: str) -> None:
        """The answer to a command whose sender is not proven. Its id derives from the record's place
        (a genuine command of the same id keeps its own answer), so a redelivery repeats it."""
        if isinstance(result, Parsed):
            command_id, command_type, raw = result.envelope.id, result.envelope.type, result.envelope.model_dump(mode="json")
        else:
            command_id, command_type, raw = result.id, result.type, result.raw
        with _log_context(command_id, _text(raw.get("correlation_id"))):
            log.warning("command refused: its sender is not proven", extra={"type": command_type, "error": reason,
                                                                            "claimed_source": str(raw.get("source"))[:128]})
            self._reject(uow, command_id, command_type, raw, "not_allowed", [{"field": "source", "message": reason}],
                         event_id=derived_id(command_id, f"not_allowed{record.position}", by=self.source))
            uow.commit_message()

    async def _prefetch_within(self, uow: MongoUnitOfWork, wants: list[list[Key]]) -> int:
        """Read the documents the records name (`wants`, a list per record), in their order, until
        `max_read_bytes` of them are read, or `max_read_documents` are held; returns how many
        records' documents were read: the rest wait for a transaction of their own. Read a part at
        a time: the records whose documents the bytes left allow, each document expected at the mean
        size of its collection's read so far (of a collection not read yet, at the largest mean:
        the first parts may be of small documents, an organisation or a notice, and the next of
        members 20 times their size), and at most READ_PART_GROWTH times as many documents as the
        part before, so a batch of small documents is still read in a few queries per collection.
        Sized by the mean of all the documents read, a part of many small ones and a few large ones
        sized the next for the small ones, and the next may be all large: reporting at 100,000
        members read 20 and 28 MB of members in batches bound at 16 (docs/benchmarks.md)."""
        if not self.max_read_bytes and not self.max_read_documents:
            await uow.prefetch(k for w in wants for k in w)
            return len(wants)
        max_bytes = self.max_read_bytes or float("inf")
        max_documents = self.max_read_documents or float("inf")
        done, part, left = 0, FIRST_READ_PART, max_bytes
        while done < len(wants):
            sizes = uow.mean_sizes()
            unseen = max(sizes.values(), default=0.0)
            keys: set[Key] = set()
            end, expected = done, 0.0
            while end < len(wants) and (end == done or (len(keys) < part and expected < left)):
                new = [k for k in wants[end] if k not in keys and not uow.holds(k)]
                keys.update(new)
                expected += sum(sizes.get(coll, unseen) for coll, _id in new)
                end += 1
            await uow.prefetch(keys)
            done = end
            left, left_documents = max_bytes - uow.bytes_read, max_documents - self._weighed(uow)
            if left <= 0 or left_documents <= 0:
                break
            part = max(MIN_READ_PART, int(min(READ_PART_GROWTH * max(part, len(keys)),
                                              left_documents / max(self.read_weights.values(), default=1))))
        return done

    def _weighed(self, uow: MongoUnitOfWork) -> int:
        """The documents held, those of `read_weights`' collections counted as what they bring."""
        return uow.size() + sum((w - 1) * uow.found_by_collection.get(c, 0) for c, w in self.read_weights.items())

    async def _prefetch_named(self, uow: MongoUnitOfWork, messages: list[Parsed]) -> None:
        """The documents that the documents read name (`Handler.then`), for the whole batch in one
        query per collection and round, rather than one query per record when its handler asks
        (activities' resolutions and visits: more than half of its commands to the database were
        such single reads). A round may name more (a member names its orgs, an org its index).
        At most half of what a batch's handlers may bring (`max_documents`), which these count
        towards: named up to all of it, they left the handlers nothing, and the batch was cut after
        its first record (notifications' meetings at 100,000 members, their branches' members)."""
        await read_named(uow, [(h, p.message, p.envelope) for p in messages
                               if (h := self.handlers.get(p.envelope.type)) is not None], self.max_documents // 2)

    def _wants(self, p: Parsed) -> Iterable[Key]:
        h = self.handlers.get(p.envelope.type)
        return h.wants(p.message) if h else ()

    # ---- one message ----------------------------------------------------------------------------

    async def _one(self, record: Incoming, result: NotEnvelope | Invalid | Parsed, uow: MongoUnitOfWork,
                   waiting: set[str] = frozenset(), parked: dict | None = None) -> Outcome:
        """Handle one message into the unit of work. `parked`: the held copy being retried."""
        if isinstance(result, NotEnvelope):
            log.warning("record is not an envelope: dead-lettered", extra={"reason": result.reason})
            uow.send(self._dead_letter(record, "not_envelope", result.reason))
            uow.commit_message()
            return "dead_lettered"
        if isinstance(result, Invalid):
            with _log_context(result.id, result.correlation_id):
                if self.mode == "commands":
                    self._reject(uow, result.id, result.type, result.raw, "invalid", result.errors)
                else:
                    uow.send(self._dead_letter(record, "invalid", str(result.errors)))
                uow.commit_message()
            return "rejected" if self.mode == "commands" else "dead_lettered"
        env = result.envelope
        with _log_context(env.id, env.correlation_id or env.id):
            handler = self.handlers.get(env.type)
            if handler is None:
                if self.mode == "commands":
                    msg = f"{env.type} is not handled on this topic"
                    self._reject(uow, env.id, env.type, env.model_dump(mode="json"), "invalid",
                                 [{"field": "type", "message": msg}])
                    uow.commit_message()
                    return "rejected"
                return "ignored"  # an event type this service has no use for
            if parked is None and self.holds_references and result.message.key() in waiting:
                # An earlier command of the same key is held: this one waits behind it, in order.
                self._hold(uow, record, result, behind=True)
                uow.commit_message()
                log.info("held behind an earlier command of the same key", extra={"type": env.type})
                return "parked"
            for attempt in range(1, self.attempts + 1):
                try:
                    await handler.handle(result.message, Context(self, env, uow, held_since=_held_since(parked)))
                    self._unpark(uow, parked)
                    uow.commit_message()
                    log.info("handled", extra={"type": env.type})
                    return "handled"
                except EventTooLarge as exc:
                    return self._too_large(record, env, uow, parked, str(exc))
                except NotYet as exc:
                    uow.rollback_message()
                    if not self.holds_references:  # a bug: only a commands pipeline holds what it reads
                        log.error("not yet, where nothing can be held: dead-lettered", extra={"type": env.type})
                        uow.send(self._dead_letter(record, "handler_failed", f"NotYet: {exc}"))
                        uow.commit_message()
                        return "dead_lettered"
                    if parked is None:
                        self._hold(uow, record, result, errors=[{"field": "data", "message": str(exc)}],
                                   upstream=True)
                        uow.commit_message()
                        log.info("held until what was published before it has arrived",
                                 extra={"type": env.type, "why": str(exc)})
                        return "parked"
                    return "waiting"
                except Rejected as r:
                    uow.rollback_message()
                    if r.reason == "unknown_reference" and self.holds_references:
                        if parked is None:
                            self._hold(uow, record, result, errors=r.errors)
                            uow.commit_message()
                            log.info("held until its reference arrives", extra={"type": env.type, "errors": r.errors})
                            return "parked"
                        if not parking.expired(parked, self.reference_wait_s):
                            return "waiting"
                    log.info("rejected", extra={"type": env.type, "reason": r.reason, "errors": r.errors})
                    self._reject(uow, env.id, env.type, env.model_dump(mode="json"), r.reason, r.errors)
                    self._unpark(uow, parked)
                    uow.commit_message()
                    return "rejected"
                except Exception as exc:
                    uow.rollback_message()
                    if is_transient(exc) or is_contention(exc):
                        raise
                    # A bug or a case nobody foresaw: retry, then dead-letter.
                    log.exception("handler failed", extra={"type": env.type, "attempt": attempt})
                    if attempt == self.attempts:
                        uow.send(self._dead_letter(record, "handler_failed", f"{type(exc).__name__}: {exc}"))
                        self._unpark(uow, parked)
                        uow.commit_message()
                        return "dead_lettered"
        raise AssertionError("unreachable")

    def _too_large(self, record: Incoming, env: Envelope, uow: MongoUnitOfWork, parked: dict | None,
                   error: str) -> Outcome:
        """A message that would cause an event the broker refuses: nothing of it is kept; a command
        is answered `invalid`, an event goes to the dead-letter topic (no retry would change it)."""
        uow.rollback_message()
        log.warning("refused: an event it causes is larger than the broker takes", extra={"type": env.type,
                                                                                          "error": error})
        self._unpark(uow, parked)
        if self.mode == "commands":
            self._reject(uow, env.id, env.type, env.model_dump(mode="json"), "invalid",
                         [{"field": "data", "message": error}])
        else:
            uow.send(self._dead_letter(record, "event_too_large", error))
        uow.commit_message()
        return "rejected" if self.mode == "commands" else "dead_lettered"

    def _unpark(self, uow: MongoUnitOfWork, parked: dict | None) -> None:
        if parked is not None:
            uow.delete(self.parked, parked["_id"])

    async def _keys_waiting(self, messages: list[Parsed]) -> set[str]:
        """Keys of this batch that have a command held: later commands of the key wait behind it."""
        if not self.holds_references:
            return set()
        keys = {p.message.key() for p in messages}
        known = keys & self._outlines.held_keys(time.monotonic())
        rest = keys - known
        return known | (await parking.keys_waiting(self.store.db[self.parked], rest) if rest else set())

    async def _retry_parked(self, uow: MongoUnitOfWork, just_parked: set[str]) -> bool:
        """Handle the held commands that are due (`parking.Retries`) and whose reference may have
        arrived, oldest first, each key in order. Returns whether anything changed.

        Also those that want a document this process wrote since the last pass, whatever their
        pause: an acknowledgement held until its notice's deliveries exist is tried as soon as they
        do, not seconds later. What a pass handles may wake more (a notice handled at last: the
        acknowledgements behind it), tried in the same unit of work, up to WAKE_ROUNDS.

        The held commands are taken as this process last read them if that was a moment ago
        (`parking.Outlines`), by a batch's pass as by the timer's: woken by the writes of another
        pipeline (a notice's addressing, page by page), the timer's passes followed one another,
        and each read them again."""
        coll = self.store.db[self.parked]
        now = time.monotonic()
        outlines = self._outlines.get(now)
        if outlines is None:
            outlines = await parking.oldest(coll)
            self._outlines.read(outlines, now)
        held = {o["_id"] for o in outlines}  # only those still held are remembered, parsed
        self._parsed_parked = {k: v for k, v in self._parsed_parked.items() if k[0] in held}
        self._pass_outcomes, self._pass_types = {}, {}
        written, self._written = self._written | uow.written_keys(), set()
        holding = [o for o in [*outlines, *uow.pending(self.parked).values()] if o]  # and those this batch holds
        fenced = parking.behind_fence(parking.heads(holding).values(), self.arrived)  # a write cannot help them yet
        self._held_wants = {(w[0], w[1]) for o in holding if o["key"] not in fenced for w in o.get("wants") or ()}
        self._awaiting_upstream = any(o.get("upstream") for o in holding)
        due = self._retries.due(outlines, now, self.reference_wait_s, parking.woken(outlines, written), self.arrived)
        tried: set[str] = set(just_parked)
        changed = False
        for _round in range(WAKE_ROUNDS):
            due = [o for o in due if o["_id"] not in tried]
            if not due:
                break
            tried.update(o["_id"] for o in due)
            before = uow.written_keys()
            if not await self._try_held(uow, due, now):
                break
            changed = True
            rest = [o for o in outlines if o["_id"] not in tried]
            wake = parking.woken(rest, uow.written_keys() - before)
            due = [o for o in rest if o["key"] in wake and o["key"] not in fenced]
        if changed and len(outlines) >= parking.LIMIT:
            # More are held than a pass reads, and what this one handled may be what those behind
            # it wait for (the acknowledgements of a notice handled at last): the next pass follows
            # at once, not at the timer's next round.
            self.wake.set()
        return changed

    async def _try_held(self, uow: MongoUnitOfWork, due: list[dict], now: float) -> bool:
        """One pass over these held commands (whole keys, in order); whether anything changed."""
        coll = self.store.db[self.parked]
        docs = await parking.whole(coll, due)
        uow.seed(self.parked, docs)
        for d in docs:  # by id and bytes (an id may come back with other bytes)
            key = (d["_id"], d["value"])
            if key not in self._parsed_parked:
                self._parsed_parked[key] = parse(d["value"])
        entries = [(d, parking.incoming(d), self._parsed_parked[(d["_id"], d["value"])]) for d in docs]
        await uow.prefetch(k for _d, _r, p in entries if isinstance(p, Parsed) for k in self._wants(p))
        await self._prefetch_named(uow, [p for _d, _r, p in entries if isinstance(p, Parsed)])
        blocked: dict[str, dict] = {}  # key: its first held command, still waiting
        changed = False
        for doc, record, result in entries:
            if doc["key"] in blocked:
                if await self._ahead(result, uow, doc, blocked[doc["key"]]):
                    changed = True
                    self._passed(doc, "handled", "handled ahead")
                continue
            outcome = await self._one(record, result, uow, parked=doc)
            if outcome == "waiting":
                blocked[doc["key"]] = doc
                self._retries.waited(doc["_id"], now)
                self._pass_outcomes["waiting"] = self._pass_outcomes.get("waiting", 0) + 1
            else:
                changed = True
                self._passed(doc, outcome, outcome)
        return changed

    def _passed(self, doc: dict, outcome: str, logged: str) -> None:
        """A held command went on in this pass: counted (`metrics`), and for the pass's log line."""
        if outcome in metrics.OUTCOMES:
            metrics.count(self.service, self.name, outcome)
        self._pass_outcomes[logged] = self._pass_outcomes.get(logged, 0) + 1
        self._pass_types[doc["type"]] = self._pass_types.get(doc["type"], 0) + 1

    async def _ahead(self, result: NotEnvelope | Invalid | Parsed, uow: MongoUnitOfWork, doc: dict,
                     first: dict) -> bool:
        """Handle a command held behind the first of its key ahead of it, if that one waits for a
        reference (not for the facts before it) and this one makes it: a document the first wants
        that does not exist yet. Kept only then; otherwise nothing of it stays, and it waits in
        its place. Whether it was published before the first and came again after it (a sender's
        retry, docs/reliability.md finding 39) or after it, the contract's outcome is the same:
        the first waited for its reference, which then arrived."""
        if first.get("upstream") or not isinstance(result, Parsed):
            return False
        handler = self.handlers.get(result.envelope.type)
        wants = [(w[0], w[1]) for w in first.get("wants") or ()]
        if handler is None or not wants:
            return False
        missing = {k for k in wants if await uow.read(*k) is None}  # read already: the pass prefetched every want
        if not missing:
            return False
        env = result.envelope
        with _log_context(env.id, env.correlation_id or env.id):
            try:
                await handler.handle(result.message, Context(self, env, uow, held_since=_held_since(doc)))
            except Exception as exc:
                uow.rollback_message()
                if is_transient(exc) or is_contention(exc):
                    raise
                return False  # its turn comes after the first's, and with it its answer
            if not uow.message_writes() & missing:
                uow.rollback_message()
                return False
            self._unpark(uow, doc)
            uow.commit_message()
            log.info("handled ahead of the held command of its key that waited for what it makes",
                     extra={"type": env.type, "first": first["_id"]})
            return True

    def _hold(self, uow: MongoUnitOfWork, record: Incoming, result: Parsed, errors: list[dict] | None = None,
              behind: bool = False, upstream: bool = False) -> None:
        """Stage the command as held, with the documents its handler wants (what wakes it)."""
        uow.put(self.parked, parking.held(record, result, errors=errors, behind=behind, wants=self._wants(result),
                                          upstream=upstream))

    def note_written(self, keys: set) -> None:
        """Documents a transaction of this process wrote (this pipeline's, or another's of the same
        service: `neighbours`): the held commands that want one are due at the next pass, and the
        timer's sweep is woken for them."""
        if len(self._written) < MAX_WRITTEN_KEPT:
            self._written |= keys
        if not self._held_wants.isdisjoint(keys):
            self.wake.set()

    def upstream_moved(self) -> None:
        """The pipeline's fence has walked on (`arrived` may say yes to more): when a command is held
        until the facts published before it arrive, the timer's sweep is woken to try it at once,
        rather than at the end of its pause (up to `parked_retry_max_s`)."""
        if self._awaiting_upstream:
            self.wake.set()

    def _reject(self, uow: UnitOfWork, command_id: str, command_type: str, raw: dict, reason: str,
                errors: list[dict[str, str]], event_id: str | None = None) -> None:
        cause = Envelope.model_construct(
            id=command_id, type=command_type, occurred_at=_occurred_at(raw),
            district=_text(raw.get("district")) or self.district,
            correlation_id=_text(raw.get("correlation_id")),
        )
        event = CommandRejected(command_id=command_id, command_type=command_type, reason=reason, errors=errors)
        event_id = event_id or derived_id(command_id, 0, by=self.source)
        try:
            env = envelope_for(event, id=event_id, cause=cause, source=self.source, district=self.district)
        except ValidationError:
            # The command's own header is what is wrong (e.g. a district no envelope may carry): the
            # answer keeps only its id. Raised here, it would fail the whole batch, and the batch
            # would go record by record (finding 16 of docs/reliability.md).
            cause = Envelope.model_construct(id=command_id, type=command_type, occurred_at=datetime.now(timezone.utc),
                                             district=self.district, correlation_id=None)
            env = envelope_for(event, id=event_id, cause=cause, source=self.source, district=self.district)
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


def _message_id(record: Incoming, result: NotEnvelope | Invalid | Parsed) -> str:
    if isinstance(result, Parsed):
        return result.envelope.id
    if isinstance(result, Invalid):
        return result.id
    return record.position


def _text(value: Any) -> str | None:
    """A header field of a refused command, carried into the answer only if it is a valid one."""
    return value if isinstance(value, str) and 0 < len(value) <= 128 else None


def _occurred_at(raw: dict) -> datetime:
    """A refused command's moment, carried into its answer when the contract takes it; else now
    (a moment outside the contract's calendar, year 1 or 9999, would make the answer invalid)."""
    value = raw.get("occurred_at")
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        if parsed is not None and parsed.tzinfo:
            return moment_in_range(parsed)
    except ValueError:
        pass
    return datetime.now(timezone.utc)


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


async def read_named(uow: StagedUnitOfWork, messages: list[tuple[Handler, Any, Envelope]],
                     limit: int | None = None) -> None:
    """The rounds of `Handler.then` over some messages: each round reads, one query a collection,
    what the messages name given what was read before it; at most `limit` documents in all, the
    first messages' first (the handlers of the others read theirs when they ask, as before)."""
    follow = [(h.then, message, envelope) for h, message, envelope in messages if h.then is not None]
    left = limit
    for _round in range(NAMED_ROUNDS):
        keys: set[Key] = set()
        for then, message, envelope in follow:
            try:
                named = {k for k in then(message, envelope, uow.as_read) if not uow.holds(k)}
            except Exception:  # a guess only: the handler meets whatever is wrong, and says so
                log.debug("a handler's further reads could not be named", exc_info=True)
                continue
            if left is not None and len(keys | named) > left:
                break
            keys |= named
        if not keys:
            return
        await uow.prefetch(keys)
        if left is not None:
            left -= len(keys)


def _held_since(parked: dict | None) -> datetime | None:
    """When a held command was first held (None for a message handled for the first time)."""
    if parked is None:
        return None
    at = parked["parked_at"]
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)
