"""The background delivery worker: sends what is due, through the channels, with proof.

It runs as a `Runtime` task, not from a Kafka record, so every change it makes goes through
`Pipeline.run_unit` (state and events committed in one transaction). For each notice with due deliveries, in three steps:

1. claim (one unit): each due attempt is recorded `sending` and `NotificationDispatched` is
   emitted — durably, BEFORE any gateway is called. A delivery due for a specialist (a visit or a
   call) is handed over here (`DoorDeliveryAssigned`), and one that no channel can reach is
   reported here (`NotificationFailed`, attempt 0): nothing is said about a delivery before it
   is due, so a fact about the member that arrives late may still change it (handlers.py). Just
   before a delivery is first acted on, it is checked against the member's facts as they stand
   (domain/addressing.py): withdrawn if the member turns out not to be a recipient, re-planned if
   they are reached otherwise;
2. send, outside any transaction, through the channel's sender;
3. record the outcomes (one unit for those ended by then; a send that hangs is recorded in a later
   one, and the next chunk is claimed meanwhile): delivered, a retry after backoff, or after the
   last failure `NotificationFailed` and the next channel (a `DoorDeliveryAssigned` when it is a
   visit or a call). The outcomes are known once the gateways answered, so a unit that fails
   because the database is away is tried again until it answers (`_record_known`).

Several instances may run this worker at once. The claim is the atomic step: it is a
version-checked write in one transaction, so when two instances claim the same delivery, one
commit wins and the other's unit runs again, finds the attempt `sending`, and leaves it alone:
no SMS goes out twice.

A crash between 1 and 3 leaves attempts `sending`. Nobody can know whether the gateway sent
them, so they are never sent again on that channel: once an attempt has been `sending` for longer
than any send can take (`NOTIFY_ORPHAN_AFTER_SECONDS`), whichever instance finds it marks it
`unknown` and the delivery falls back to its next channel (see domain/delivery.py). A live
instance's sends end long before that, so it never takes another's work in progress.
"""
import asyncio
import itertools
import logging
import random
import time
import uuid
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from services.notifications.adapters.channels import Note, SendFailed, Sender
from services.notifications.adapters.documents import (
    ALERTS, DELIVERIES, DELIVERY, MEMBER, MEMBERS, NOTICE, NOTICES, delivery_from_doc, delivery_id, delivery_to_doc,
)
from services.notifications.adapters.due_deliveries import DueDeliveries
from services.notifications.domain import delivery as deliveries
from services.notifications.domain.addressing import as_it_stands, delivery_for
from services.notifications.domain.delivery import NO_CHANNEL, Delivery, Failure, stamp
from services.notifications.domain.quiet_hours import QuietHours
from services.notifications.handlers import address_next_page, remind_page
from services.notifications.naming import as_if, emit_for_delivery
from services.notifications.settings import NotifySettings
from shared.contracts import notifications as c
from shared.contracts.envelope import Envelope
from shared.messaging.causal_fence import CausalFence
from shared.messaging.failures import is_transient
from shared.messaging.pipeline import Context, Pipeline
from shared.runtime import Runtime, pipeline

log = logging.getLogger(__name__)
WORK_NAMESPACE = uuid.UUID("6f1d2c1e-4b8a-4e55-9a51-0d7c3f7e2b10")
PARALLEL_SENDS = 16  # a round's sends at once
RECORD_RETRY_FIRST_S, RECORD_RETRY_MAX_S = 0.25, 5.0  # pauses between tries to record known outcomes
REMIND_PAGE = 50  # alerts whose reminders are created in one unit (a few notices each)
# While every delivery found due waits for the fence, the next look is when the fence walks on, or
# after this long at most (a retry that falls due meanwhile, behind them in the query's order).
FENCE_LOOK_AGAIN_S = 10.0


class DeliveryWorker:
    def __init__(self, runtime: Runtime, cfg: NotifySettings, senders: dict[str, Sender],
                 fence: CausalFence | None = None):
        self.runtime, self.cfg, self.senders = runtime, cfg, senders
        self.quiet = QuietHours.parse(cfg.quiet_hours)
        self.pipe: Pipeline = pipeline(runtime, "commands")
        self.db = runtime.db
        self.due = DueDeliveries(self.db, cfg.batch_size)
        self._held_back: list[dict] = []  # deliveries of the last page the fence held back (`tick`)
        # None: deliveries are acted on as soon as they are due (unit tests; the setting at 0).
        self.fence = fence
        self._first_seen: dict[str, float] = {}  # notice → when its first untouched delivery was found due
        # Whether the last look found deliveries due and every one behind the fence, and when; and
        # whether the fence has walked on since (`tick`).
        self._fenced_since: float | None = None
        self._fence_moved = asyncio.Event()
        if fence is not None:
            fence.on_pass(self._fence_moved.set)

    async def run(self) -> None:
        last_orphan_check = 0.0
        while True:
            try:
                if time.monotonic() - last_orphan_check >= self.cfg.orphan_after_seconds / 4:
                    await self.recover_orphans()
                    last_orphan_check = time.monotonic()
                await self.remind()
                await self.address()
                if await self.tick() >= self.cfg.batch_size:
                    continue  # more is due: no pause between full batches
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery round failed; it will be tried again")
            await asyncio.sleep(self.cfg.poll_seconds)

    async def recover_orphans(self) -> None:
        """Attempts `sending` for longer than a send can take: their process died mid-send."""
        now = _now()
        cutoff = stamp(now - timedelta(seconds=self.cfg.orphan_after_seconds))
        docs = [d for d in await self.db[DELIVERIES].find({"state": "sending"}).to_list(None)
                if d["attempts"] and d["attempts"][-1]["started_at"] <= cutoff]
        for notice_id, group in _by_notice(docs).items():
            log.warning("attempts left 'sending' by a process that died: outcome unknown, not resent",
                        extra={"notice_id": notice_id, "count": len(group)})

            async def work(ctx: Context, group=group) -> None:
                for doc in group:
                    d = await ctx.repo(DELIVERY).get(doc["_id"])
                    if d is None or d.state != "sending" or not d.attempts or d.attempts[-1].started_at > cutoff:
                        continue
                    failure = deliveries.orphaned(d, now, self.quiet)
                    await self._name_specialist(ctx, d, failure)
                    ctx.repo(DELIVERY).add(d)
                    self._emit_failure(ctx, d, failure, d.attempts[-1])

            await self.pipe.run_unit(self._cause("orphans", group, now), work, [(DELIVERIES, d["_id"]) for d in group])

    async def remind(self) -> None:
        """The reminders whose alert has stood for the settling time (domain/alert_reminders.py),
        REMIND_PAGE alerts a unit: each unit reads its alerts again (another instance, or an
        AlertCleared, may have got there first)."""
        now = _now()
        due = [d["_id"] for d in await self.db[ALERTS].find({"remind_at": {"$lte": stamp(now)}}, {"_id": 1})
               .sort("remind_at", 1).limit(self.cfg.batch_size).to_list(None)]
        for page in (due[i:i + REMIND_PAGE] for i in range(0, len(due), REMIND_PAGE)):
            async def work(ctx: Context, page=page) -> None:
                await remind_page(ctx, page, now)

            await self.pipe.run_unit(self._named("remind", page[0], now), work, [(ALERTS, i) for i in page])

    async def address(self) -> None:
        """The next page of each large notice still being addressed (handlers.address_next_page):
        one page a round, so the deliveries already addressed go out meanwhile."""
        for doc in await self.db[NOTICES].find({"to_address": {"$gte": ""}}, {"_id": 1}).to_list(None):
            async def work(ctx: Context, notice_id=doc["_id"]) -> None:
                await address_next_page(ctx, notice_id)

            await self.pipe.run_unit(self._named("address", doc["_id"], _now()), work, [(NOTICES, doc["_id"])])

    async def tick(self) -> int:
        """One round over what is due, in chunks of several notices; returns how many were due and
        past the fence.

        The deliveries of a page that the fence holds back are looked at again in the next round,
        before the next page: with a backlog, every page has notices found due for the first time,
        and asking the database again from the earliest (the round's query, 20 s at 100,000 members)
        every other round kept the worker at 14 deliveries a second. When the last look found every
        due delivery behind the fence, the next looks nothing until the fence walks on (it would
        look at the same deliveries each second to act on none), or, after FENCE_LOOK_AGAIN_S, asks
        the database again from the earliest (a retry may have fallen due meanwhile)."""
        if self._fenced_since is not None:
            waited = time.monotonic() - self._fenced_since
            if waited >= FENCE_LOOK_AGAIN_S:
                self._held_back = []
                await self.due.reset()
            elif not self._fence_moved.is_set():
                return 0
        self._fence_moved.clear()
        found_at = _now()
        due = self._held_back or await self.due.page(found_at)
        passed = self._past_the_fence(due)
        passed_ids = {d["_id"] for d in passed}
        self._held_back = [d for d in due if d["_id"] not in passed_ids]  # read again by their claim, as every one
        self._fenced_since = time.monotonic() if due and not passed else None
        await self._deliver_round(passed, found_at)
        return len(passed)

    def _past_the_fence(self, due: list[dict]) -> list[dict]:
        """The due deliveries that may be acted on now: those already under way, and a notice's
        untouched ones once every member fact published before they were first found due has
        arrived (`causal_fence.py`). A fact that arrives after a delivery was acted on leaves it,
        as proof (handlers.py, late facts): without the fence, whether it arrived before depended
        on how far members lagged."""
        if self.fence is None:
            return due
        now = self.fence.clock()
        fresh = {d["notice_id"] for d in due if deliveries.untouched(delivery_from_doc(d))}
        self._first_seen = {n: self._first_seen.get(n, now) for n in fresh}
        return [d for d in due if d["notice_id"] not in fresh or self.fence.passed(self._first_seen[d["notice_id"]])]

    async def _deliver_round(self, due: list[dict], found_at: datetime) -> int:
        """The round's chunks one after the other, in a random order: every instance finds the same
        deliveries due first, and would otherwise claim the same chunk at the same moment, one losing
        its claim to the other, chunk after chunk. Once the window (`_Window`) is at least half free,
        as much of the next chunk as it has room for is claimed: a send that hangs holds its own
        slot, not the round, and sends that end at once (most) leave a chunk claimed in one unit and
        recorded in one. (Several chunks claimed at once were tried: their claims and records outran
        the pipelines writing the same deliveries and tallies; docs/reliability.md, finding 21.)
        Returns how many attempts were claimed to be sent."""
        chunks = _chunks(due, self.chunk_size)
        random.shuffle(chunks)
        window, claimed = _Window(self, self.chunk_size), 0
        try:
            for chunk in chunks:
                while chunk:
                    room = await window.room()
                    part, chunk = chunk[:room], chunk[room:]
                    attempts = await self._claim_chunk(_by_notice(part), found_at)
                    window.send(attempts)
                    claimed += len(attempts)
            await window.drain()
        finally:
            window.abandon()
        return claimed

    @property
    def chunk_size(self) -> int:
        """Attempts claimed and not yet recorded, at most: as many as the gateways can surely
        answer, PARALLEL_SENDS at a time, in half the time after which an attempt still `sending` is
        taken for an orphan (so no other instance takes a claimed attempt over while it is being sent)."""
        rounds = int(self.cfg.orphan_after_seconds / (2 * self.cfg.send_timeout_seconds))
        return PARALLEL_SENDS * max(1, rounds)

    async def _claim_chunk(self, groups: dict[str, list[dict]], found_at: datetime) -> list[tuple[Delivery, Note]]:
        """Claim (one unit) the due deliveries of some notices: one transaction for the chunk rather
        than one per notice (most notices reach a few members). Returns the attempts to send."""
        claimed: list[tuple[Delivery, Note]] = []

        async def claim(ctx: Context) -> None:
            claimed.clear()  # the unit runs again when another instance claimed first
            # Stamped now, not when the round began: after slow sends of the round's earlier chunks,
            # an attempt stamped with the round's start would already look orphaned to others.
            now = _now()
            for notice_id, group in groups.items():
                await self._claim(_in_correlation(ctx, group), notice_id, group, now, claimed)

        docs = [d for group in groups.values() for d in group]
        await self.pipe.run_unit(self._cause("claim", docs, found_at), claim,
                                 [*((NOTICES, n) for n in groups), *((DELIVERIES, d["_id"]) for d in docs),
                                  *((MEMBERS, d["member_id"]) for d in docs)])
        return claimed

    async def _send(self, note: Note, gate: asyncio.Semaphore) -> "Sent":
        """One attempt through its channel. Only called for attempts durably `sending`."""
        sender = self.senders[note.channel]
        unanswered = False
        async with gate:
            try:
                await sender.send(note)
                error = None
            except SendFailed as exc:
                error, unanswered = str(exc), exc.unanswered
            except Exception as exc:  # a sender bug must not leave the attempt hanging
                log.exception("sender failed unexpectedly", extra={"channel": note.channel})
                error = f"{type(exc).__name__}: {exc}"
        return Sent(error, unanswered, sender.transport, _now())

    async def _record_outcomes(self, sent: list[tuple[Delivery, "Sent"]]) -> None:
        """Record (one unit) the outcomes of some sends."""
        async def record(ctx: Context) -> None:
            for before, outcome in sent:
                d = await ctx.repo(DELIVERY).get(delivery_id(before.notice_id, before.member_id))
                if d is None or d.state != "sending" or d.attempt != before.attempt or d.channel != before.channel:
                    continue
                await self._record(_in_correlation(ctx, [{"correlation_id": d.correlation_id}]), d, outcome)

        last = max(outcome.done for _, outcome in sent)
        await self._record_known(self._cause("record", [delivery_to_doc(d) for d, _ in sent], last), record,
                                 [(DELIVERIES, delivery_id(d.notice_id, d.member_id)) for d, _ in sent])

    async def _claim(self, ctx: Context, notice_id: str, group: list[dict], now: datetime,
                     claimed: list[tuple[Delivery, Note]]) -> None:
        """Claim one notice's due deliveries: each due attempt `sending` (to be sent, added to
        `claimed`), handed to a specialist, or said unreachable."""
        # The notice and the members are looked at, not copied: the notice is written only as a new
        # snapshot (its recipients replaced), and a member is only read by `delivery_for`.
        notice = await ctx.repo(NOTICE).peek(notice_id)
        withdrawn = set()
        for doc in group:
            d = read = await ctx.repo(DELIVERY).get(doc["_id"])
            if d is not None and deliveries.unsaid(d) and notice.due_at is not None:  # (see _hand_over)
                d = as_it_stands(d, delivery_for(notice, await ctx.repo(MEMBER).peek(d.member_id)))
                if d is None:  # not a recipient after all (a fact arrived late)
                    ctx.repo(DELIVERY).remove(doc["_id"])
            if d is None:
                withdrawn.add(doc["member_id"])
                continue
            state = d.state
            step = deliveries.claim(d, now, self.quiet)
            if step == "skip" and d.state == state and d is read:
                continue  # taken up meanwhile (another instance, an acknowledgement): not written again,
                # which would move its version under the writer that has it
            ctx.repo(DELIVERY).add(d)
            if step == "send":
                emit_for_delivery(ctx, c.NotificationDispatched(
                    notice_id=d.notice_id, member_id=d.member_id, branch_id=d.branch_id, channel=d.channel,
                    attempt=d.attempt, addressed_on=d.addressed_on))
            if step in ("send", "resend"):  # a resend repeats a dispatched attempt: nothing new to say
                claimed.append((d, Note(d.channel, d.notice_id, d.member_id, d.attempt, notice.title,
                                        notice.body, d.contacts)))
            elif step == "door":
                emit_for_delivery(ctx, c.DoorDeliveryAssigned(
                    notice_id=d.notice_id, member_id=d.member_id, branch_id=d.branch_id,
                    specialist_id=d.specialist_id, channel=d.channel, addressed_on=d.addressed_on))
            elif step == "unreachable":
                emit_for_delivery(ctx, c.NotificationFailed(
                    notice_id=d.notice_id, member_id=d.member_id, branch_id=d.branch_id,
                    channel=d.preferred or "door", attempt=0, error=NO_CHANNEL))
        if withdrawn & set(notice.recipients):
            notice.recipients = [m for m in notice.recipients if m not in withdrawn]
            ctx.repo(NOTICE).add(notice)

    async def _record(self, ctx: Context, d: Delivery, outcome: "Sent") -> None:
        """One send's outcome: delivered, a retry after backoff (the same attempt again when the
        gateway did not answer), or the channel given up."""
        error, transport, done = outcome.error, outcome.transport, outcome.done
        if error is None:
            deliveries.succeeded(d, done, transport)
            emit_for_delivery(ctx, c.NotificationDelivered(notice_id=d.notice_id, member_id=d.member_id,
                                                           branch_id=d.branch_id, channel=d.channel, attempt=d.attempt))
            ctx.repo(DELIVERY).add(d)
            return
        log.warning("send failed", extra={"notice_id": d.notice_id, "member_id": d.member_id,
                                          "channel": d.channel, "attempt": d.attempt, "error": error})
        attempt = d.attempts[-1]
        failure = deliveries.failed(d, done, error, self.quiet, self.cfg.max_attempts,
                                    self.cfg.retry_base_seconds, transport, unanswered=outcome.unanswered)
        await self._name_specialist(ctx, d, failure)
        ctx.repo(DELIVERY).add(d)
        if failure.retry_at is None:
            self._emit_failure(ctx, d, failure, attempt)

    @staticmethod
    async def _name_specialist(ctx: Context, d: Delivery, failure: Failure) -> None:
        """Handed over to a visit or a call with nobody named: the member's specialist as known now
        (a fact about the member may have reached the service after the notice was addressed;
        docs/reliability.md, finding 20)."""
        if failure.door and d.specialist_id is None:
            member = await ctx.repo(MEMBER).get(d.member_id)
            deliveries.name_specialist(d, member.specialist_id if member else None)

    async def _record_known(self, cause: Envelope, record, wants: list) -> None:
        """Record outcomes the gateways gave: they are known, and a database away for a moment must
        not lose them (left `sending`, the attempts would be taken for orphans, outcome unknown,
        and sent again on the next channel). Tried again, the pause doubling to RECORD_RETRY_MAX_S,
        while the failure is transient, for at most `orphan_after_seconds`: by then the orphan
        recovery has them anyway, and the worker goes on with the other notices."""
        give_up_at = time.monotonic() + self.cfg.orphan_after_seconds
        pause = RECORD_RETRY_FIRST_S
        for attempt in itertools.count(1):
            try:
                return await self.pipe.run_unit(cause, record, wants)
            except Exception as exc:
                if not is_transient(exc) or time.monotonic() + pause > give_up_at:
                    raise
                log.warning("recording the outcome of sends failed; trying again",
                            extra={"unit": cause.id, "attempt": attempt, "error_type": type(exc).__name__,
                                   "error": str(exc), "retry_in_s": pause})
            await asyncio.sleep(pause)
            pause = min(pause * 2, RECORD_RETRY_MAX_S)

    def _emit_failure(self, ctx: Context, d: Delivery, failure: Failure, attempt) -> None:
        """After the last attempt on a channel: say so, and hand over to the next channel."""
        emit_for_delivery(ctx, c.NotificationFailed(notice_id=d.notice_id, member_id=d.member_id, branch_id=d.branch_id,
                                           channel=attempt.channel, attempt=attempt.attempt, error=attempt.error or "",
                                           next_channel=failure.next_channel))
        if failure.door:
            emit_for_delivery(ctx, c.DoorDeliveryAssigned(notice_id=d.notice_id, member_id=d.member_id, branch_id=d.branch_id,
                                                 specialist_id=d.specialist_id, channel=d.channel,
                                                 addressed_on=d.addressed_on))

    def _cause(self, step: str, group: list[dict], now: datetime) -> Envelope:
        """A stable name for the unit (from what it works on), for its logs and correlation; the
        ids of the events it emits derive from what each says (naming.py), not from the unit."""
        basis = "|".join(sorted(f"{d['_id']}:{d.get('index')}:{d.get('attempt')}:{d.get('state')}" for d in group))
        corr = next((d.get("correlation_id") for d in group if d.get("correlation_id")), None)
        return self._named(step, basis, now, corr)

    def _named(self, step: str, basis: str, now: datetime, correlation_id: str | None = None) -> Envelope:
        """The cause of a unit of `step` over what `basis` names."""
        return Envelope.model_construct(
            id=str(uuid.uuid5(WORK_NAMESPACE, f"{step}/{basis}")), type=f"Delivery.{step}", schema_version=1,
            occurred_at=now, district=self.runtime.settings.district, source="sunsetred-notifications",
            correlation_id=correlation_id, causation_id=None, data={})


class Sent(NamedTuple):
    """How a send ended: the error (None when the gateway accepted it), whether the gateway may have
    taken it without answering (`SendFailed.unanswered`), the transport, and when."""
    error: str | None
    unanswered: bool
    transport: str
    done: datetime


class _Window:
    """The attempts a round has claimed and not yet recorded. Their sends run PARALLEL_SENDS at a
    time, and their outcomes are recorded as they come in, whatever has ended by the time the unit
    before is committed: a send that hangs until its timeout holds up neither the other outcomes
    of its chunk nor the next claim (docs/reliability.md, finding 21). At most `size` are
    outstanding, so every claimed attempt is recorded well before it could be taken for an orphan."""

    def __init__(self, worker: "DeliveryWorker", size: int):
        self.worker, self.size = worker, size
        self.gate = asyncio.Semaphore(PARALLEL_SENDS)  # the round's sends at once, whatever chunk they are of
        self.sending: dict[asyncio.Task, Delivery] = {}

    def send(self, claimed: list[tuple[Delivery, Note]]) -> None:
        for d, note in claimed:
            self.sending[asyncio.create_task(self.worker._send(note, self.gate))] = d

    async def room(self) -> int:
        """How many attempts may be claimed now, once at least half the window is free (recording
        the outcomes of those that ended meanwhile): claims of a useful size, not one a send."""
        while self.sending and len(self.sending) > self.size // 2:
            await self.record_some()
        return self.size - len(self.sending)

    async def drain(self) -> None:
        while self.sending:
            await self.record_some()

    async def record_some(self) -> None:
        """Wait for a send to end, then record every one ended by then (one unit)."""
        await asyncio.wait(self.sending, return_when=asyncio.FIRST_COMPLETED)
        ended = [t for t in self.sending if t.done()]
        sent = [(self.sending.pop(t), t.result()) for t in ended]
        await self.worker._record_outcomes(sent)

    def abandon(self) -> None:
        """Sends not recorded when the round fails or the worker stops: their attempts stay
        `sending`, and the orphan recovery settles them, as after a crash."""
        for task in self.sending:
            task.cancel()
        self.sending.clear()


def _in_correlation(ctx: Context, docs: list[dict]) -> Context:
    """The unit's context, emitting in the correlation of the deliveries' notice (a unit works on
    several notices; each one's events keep the correlation of the command that sent it)."""
    corr = next((d.get("correlation_id") for d in docs if d.get("correlation_id")), None)
    if corr is None or corr == ctx.envelope.correlation_id:
        return ctx
    return as_if(ctx, correlation_id=corr)


def _chunks(due: list[dict], size: int) -> list[list[dict]]:
    """The round's due deliveries in chunks of at most `size`, a notice's kept together when it fits."""
    out: list[list[dict]] = []
    for group in _by_notice(due).values():
        for i in range(0, len(group), size):
            part = group[i:i + size]
            if out and len(out[-1]) + len(part) <= size:
                out[-1].extend(part)
            else:
                out.append(list(part))
    return out


def _by_notice(docs: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for d in docs:
        out[d["notice_id"]].append(d)
    return out


def _now() -> datetime:
    return datetime.now(timezone.utc)


def delivery_task(cfg: NotifySettings, senders: dict[str, Sender], fence: CausalFence | None = None):
    """The worker as a runtime task, behind `fence` (walked by a task of its own: bootstrap.py); it
    closes the senders' kept connections when it stops."""
    async def deliver_notices(runtime: Runtime) -> None:
        try:
            await DeliveryWorker(runtime, cfg, senders, fence).run()
        finally:
            for sender in {id(s): s for s in senders.values()}.values():
                if hasattr(sender, "aclose"):
                    await sender.aclose()

    return deliver_notices
