"""Reporting's service layer of alert announcements: AlertRaised/AlertCleared once a change has
stood for the settling time (setting REPORTING_ALERT_SETTLE_SECONDS; domain/announcements.py says
why and what the documents hold).

`handlers.emit_changes`, through which every alert evaluation goes, hands its changes to
`announce`. With no settling time they are emitted at once, in the evaluation's unit, as they
always were. Otherwise they are staged in the alerts' announcements at the end of the batch (one
deferred step: the batch's announcements read in one query, not one per alert), and the
background task `announce_task` emits those due, a page per unit (`Pipeline.run_unit`): it reads
each announcement again in the unit and deletes it there, so of two instances of reporting one
announces, the other's version-checked write fails and, run again, finds nothing left to say.

A change also waits for the member and activity facts published before it was staged (the causal
fence, `alert_facts_fence`): a payment held up in `members.commands` past the settling time would
otherwise clear, a moment after its announcement, an arrear it had paid.

An announced event is the one an immediate announcement made: same fields, same id (derived from
the alert's state and the evaluation's day), and the envelope of the evaluation's cause (instant,
correlation, causation), only published later.
"""
import asyncio
import copy
import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from services.reporting.adapters.documents import ALERT_ANNOUNCEMENTS as ANNOUNCEMENTS
from services.reporting.domain import announcements as dom
from services.reporting.settings import alert_settle_seconds
from shared.contracts import reporting as r
from shared.contracts.envelope import Envelope
from shared.contracts.parsing import derived_id
from shared.messaging.causal_fence import CausalFence
from shared.messaging.pipeline import Context, Pipeline

log = logging.getLogger(__name__)
PAGE = 200  # announcements per unit: one transaction each


def raised_id(alert_id: str, level: str, months: int | None, day: str) -> str:
    return derived_id("alert", f"{alert_id}|{level}|{months}|{day}")


def cleared_id(alert_id: str, day: str) -> str:
    return derived_id("alert", f"{alert_id}|cleared|{day}")


def emit(ctx: Context, what: str, x: dict, day: str) -> None:
    """AlertRaised for an alert opened or changed (`x` as `Alert.to_dict()`), AlertCleared for one
    gone (`x` as it last stood), as of the evaluation's `day`."""
    if what == "raised":
        ctx.emit(r.AlertRaised(alert_id=x["alert_id"], kind=x["kind"], level=x["level"], subject_id=x["subject_id"],
                               org_id=x["org_id"], since=x["since"], months=x.get("months"), as_of=day,
                               details=x.get("details") or {}),
                 id=raised_id(x["alert_id"], x["level"], x.get("months"), day))
    else:
        ctx.emit(r.AlertCleared(alert_id=x["alert_id"], kind=x["kind"], subject_id=x["subject_id"],
                                org_id=x["org_id"], as_of=day), id=cleared_id(x["alert_id"], day))


# ---- staged by the evaluations ----------------------------------------------------------------

Change = tuple[str, dict | None, dict | None]  # alert_id, before (open_alerts entry), now (or None)

# The batch's changes waiting for its deferred step, beside its unit of work (`UnitOfWork.beside`:
# a batch run again starts with a new list). Evaluations add to it as their last step.
_STAGED = "alert-announcements"


def announce(ctx: Context, changes: list[Change], day: str) -> None:
    """Announce these changes of a subject's alerts, evaluated as of `day`: at once with no settling
    time, else once they have stood for it."""
    if alert_settle_seconds() <= 0:
        for _alert_id, before, now in changes:
            if now is not None:
                emit(ctx, "raised", now, day)
            else:
                emit(ctx, "cleared", before, day)
        return
    cause = {"id": ctx.envelope.id, "occurred_at": ctx.envelope.occurred_at.isoformat(),
             "correlation_id": ctx.envelope.correlation_id, "district": ctx.envelope.district}
    ctx.uow.beside(_STAGED, list).extend((alert_id, before, now, day, cause) for alert_id, before, now in changes)
    ctx.defer(("alert-announcements",), _stage)


async def _stage(ctx: Context) -> None:
    """The batch's changes into their announcements, in the order they were evaluated."""
    waiting = ctx.uow.beside(_STAGED, list)
    staged = list(waiting)
    waiting.clear()  # a later round stages into it again
    await ctx.uow.prefetch((ANNOUNCEMENTS, alert_id) for alert_id, *_ in staged)
    moment = datetime.now(timezone.utc)
    at = dom.stamp(moment + timedelta(seconds=alert_settle_seconds()))
    for alert_id, before, now, day, cause in staged:
        old = await ctx.get(ANNOUNCEMENTS, alert_id)
        doc = dom.staged(old, alert_id, before, now, day, cause, at, staged_at=dom.stamp(moment))
        if dom.waits(doc):
            ctx.put(ANNOUNCEMENTS, doc)
        elif ctx.uow.as_read(ANNOUNCEMENTS, alert_id) is not None:
            ctx.delete(ANNOUNCEMENTS, alert_id)  # back to what was announced: nothing to say
        elif old is not None:
            # Staged earlier in this batch, never written: a deletion would expect it stored.
            ctx.put(ANNOUNCEMENTS, doc)


# ---- announced by the background task ---------------------------------------------------------

def _as_of_cause(ctx: Context, cause: dict) -> Context:
    """The unit's context, emitting as the evaluation's cause would have (its envelope's fields)."""
    other = copy.copy(ctx)
    other.envelope = ctx.envelope.model_copy(update={
        "id": cause["id"], "occurred_at": datetime.fromisoformat(cause["occurred_at"]),
        "correlation_id": cause["correlation_id"], "district": cause["district"] or ctx.envelope.district})
    return other


FencePassed = Callable[[str], bool]  # whether the facts published before an instant have arrived


def fence_check(fence: CausalFence | None) -> FencePassed:
    """`dom.due`'s fence question, asked of `fence` (None: switched off, nothing held)."""
    if fence is None:
        return lambda _staged_at: True
    return lambda staged_at: fence.passed_at(datetime.fromisoformat(staged_at))


async def announce_due(ctx: Context, alert_ids: list[str], now: str, fence_passed: FencePassed) -> None:
    """Announce each of these alerts whose change stood for its settling time at `now` and passed
    the fence, read again here (another instance, or a later evaluation, may have got there first)."""
    for alert_id in alert_ids:
        doc = await ctx.get(ANNOUNCEMENTS, alert_id)
        if not dom.due(doc, now, fence_passed):
            continue
        for what, x, day in dom.to_announce(doc):
            emit(_as_of_cause(ctx, doc[dom.CURRENT]["cause"]), what, x, day)
        ctx.delete(ANNOUNCEMENTS, alert_id)  # announced: the subject's open_alerts now say it


def _cause(runtime, id: str) -> Envelope:
    return Envelope(id=id, type="AlertAnnouncement", occurred_at=datetime.now(timezone.utc),
                    district=runtime.settings.district, source=f"sunsetred-{runtime.service}", data={})


async def announce_all_due(runtime, p: Pipeline, fence_passed: FencePassed) -> tuple[int, int, str | None]:
    """Every announcement due now and past the fence, PAGE a unit; returns (how many stood for the
    settling time, how many of them were announced, the earliest `staged_at` of those the fence held
    back). The unit's id derives from what it announces (ids and instants), so a unit run again
    announces under the same id."""
    now = dom.stamp(datetime.now(timezone.utc))
    stood = await runtime.db[ANNOUNCEMENTS].find({"announce_at": {"$lte": now}}, {"announce_at": 1, "staged_at": 1}).sort(
        "announce_at", 1).limit(10 * PAGE).to_list(None)
    due = [d for d in stood if dom.due(d, now, fence_passed)]  # the rest wait for the fence
    passed = {d["_id"] for d in due}
    held = min((d["staged_at"] for d in stood if d["_id"] not in passed and "staged_at" in d), default=None)
    for start in range(0, len(due), PAGE):
        page = due[start:start + PAGE]
        key = hashlib.sha1(repr(sorted((d["_id"], d["announce_at"]) for d in page)).encode()).hexdigest()

        async def work(ctx: Context, ids=[d["_id"] for d in page]) -> None:
            await announce_due(ctx, ids, now, fence_passed)
        await p.run_unit(_cause(runtime, f"alerts-announced:{key}"), work, [(ANNOUNCEMENTS, d["_id"]) for d in page])
    return len(stood), len(due), held


class Announcer:
    """The background task's looks, and what it remembers between them: the earliest change the
    fence held back. Until the fence has passed that moment nothing staged after it can pass either
    (the fence passes moments in order), and what stood before it was announced at that look; so
    the query is not asked again meanwhile. Asked anyway, it read every waiting announcement due by
    the clock at each poll: at 100,000 members, with reporting 200,000 records behind and 225,000
    announcements held, 0.8-4.2 s of the database's time every 5 s (docs/secantusdb.md 4)."""

    def __init__(self, fence_passed: FencePassed):
        self.fence_passed = fence_passed
        self.held: str | None = None

    async def look(self, runtime, p: Pipeline) -> bool:
        """Announce what is due; returns whether more is due at once (no pause before the next)."""
        if self.held is not None and not self.fence_passed(self.held):
            return False
        stood, announced, self.held = await announce_all_due(runtime, p, self.fence_passed)
        return stood >= 10 * PAGE and announced == stood


def poll_seconds(settle: float) -> float:
    """How often the task looks: a small part of the settling time, within [0.5 s, 5 s]."""
    return min(5.0, max(0.5, settle / 4))


def announce_task(fence: CausalFence | None):
    looks = Announcer(fence_check(fence))

    async def announcer(runtime) -> None:
        """The Runtime task: announces what has stood for the settling time and passed the fence,
        as long as it runs."""
        p = runtime.pipelines[0]
        while True:
            try:
                if await looks.look(runtime, p):
                    continue  # more is due: no pause
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("announcing alerts failed; tried again at the next round")
            await asyncio.sleep(poll_seconds(alert_settle_seconds()))
    return announcer
