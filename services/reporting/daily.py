"""Once a day: evaluate every alert as of today, and publish the reports of a month that closed.

Alerts are also evaluated on every event (handlers.py); this pass catches what only the
calendar changes (a run of unpaid months grows at midnight). It runs as background units of the
projections pipeline (`Pipeline.run_unit`): journaled, and with ids derived from the day, so a
crash or a second run the same day announces nothing twice.
"""
import asyncio
import hashlib
import logging
from datetime import date, datetime, timezone

from services.reporting import queries
from services.reporting.adapters.documents import MEMBERS, ORGS, STATE, facts_from_doc
from services.reporting.domain import days as d
from services.reporting.handlers import MemberUpdater, refresh_branch_alerts
from shared.contracts.envelope import Envelope
from shared.contracts.reporting import PeriodReportPublished
from shared.messaging.pipeline import Context, Pipeline
from shared.periods import parse_period, today
from shared.runtime import Runtime

log = logging.getLogger(__name__)
PAGE = 1000  # members per unit: the writer lock is held for one unit at a time


def _cause(runtime: Runtime, id: str, type_: str) -> Envelope:
    return Envelope(id=id, type=type_, occurred_at=datetime.now(timezone.utc), district=runtime.settings.district,
                    source=f"sunsetred-{runtime.service}", data={})


async def evaluate_members(runtime: Runtime, p: Pipeline, day: str) -> None:
    update = MemberUpdater(emit_alerts=True)
    # One read of the ids, then units of PAGE members (FerretDB scans for every query).
    ids = [x["_id"] async for x in runtime.db[MEMBERS].find({}, {"_id": 1})]
    ids.sort()
    for start in range(0, len(ids), PAGE):
        page = ids[start:start + PAGE]

        async def work(ctx: Context, page=page) -> None:
            for member_id in page:
                doc = await ctx.get(MEMBERS, member_id)
                await update.refresh(ctx, facts_from_doc(doc, member_id), doc, day)
        await p.run_unit(_cause(runtime, f"daily:{day}:members:{page[0]}", "DailyAlertEvaluation"), work,
                         [(MEMBERS, i) for i in page])


async def evaluate_branches(runtime: Runtime, p: Pipeline, day: str) -> None:
    """Every branch as of `day` (events evaluate their branch as they come; this catches what
    only the calendar changes: a quarter ending, a run of months growing)."""
    ids = sorted([b["_id"] async for b in runtime.db[ORGS].find({"kind": "branch"}, {"_id": 1})])
    for start in range(0, len(ids), PAGE):
        page = ids[start:start + PAGE]

        async def work(ctx: Context, page=page) -> None:
            for branch_id in page:
                await refresh_branch_alerts(ctx, branch_id, day, emit_alerts=True)
        # The unit's id (hence its events' ids) derives from the day and the alerts open before
        # it: a check repeated after a crash emits the same ids, a later check that finds
        # something new gets new ids, and a check that changes nothing emits nothing.
        before = [(o["_id"], [a["alert_id"] for a in o.get("open_alerts", [])]) async for o in
                  runtime.db[ORGS].find({"_id": {"$in": page}}, {"open_alerts": 1})]
        key = hashlib.sha1(repr(sorted(before)).encode()).hexdigest()
        await p.run_unit(_cause(runtime, f"daily:{day}:branches:{key}", "BranchAlertEvaluation"),
                         work, [(ORGS, i) for i in page])


async def publish_closed_month(runtime: Runtime, p: Pipeline, day: str) -> None:
    """PeriodReportPublished, once per organisation, for the month before `day`'s."""
    month = d.prev_month(d.month_of(day))
    period = parse_period(month)
    orgs = [o async for o in runtime.db[ORGS].find({}, {"published_month": 1}).sort("_id", 1)
            if o.get("published_month", "") < month]
    if not orgs:
        return
    reports = [await queries.report(runtime.db, o["_id"], period, period.end) for o in orgs]

    async def work(ctx: Context) -> None:
        for r in reports:
            ctx.emit(PeriodReportPublished(org_id=r["org_id"], period=month, report=r))
            doc = await ctx.get(ORGS, r["org_id"])
            ctx.put(ORGS, doc | {"published_month": month})
    ids = hashlib.sha1(",".join(o["_id"] for o in orgs).encode()).hexdigest()
    await p.run_unit(_cause(runtime, f"published:{month}:{ids}", "MonthClosed"), work,
                     [(ORGS, o["_id"]) for o in orgs])


async def check(runtime: Runtime, day: date) -> None:
    """Members once a day (a run of unpaid months grows at midnight); branches and closed
    months at every check, so a new branch is neither unwatched nor unpublished until tomorrow."""
    p, text = runtime.pipelines[0], day.isoformat()
    state = await runtime.db[STATE].find_one({"_id": "daily"})
    if not state or state["day"] < text:
        await evaluate_members(runtime, p, text)

        async def done(ctx: Context) -> None:
            ctx.put(STATE, {"_id": "daily", "day": text})
        await p.run_unit(_cause(runtime, f"daily:{text}:done", "DailyAlertEvaluation"), done)
        log.info("daily member evaluation done", extra={"day": text})
    await evaluate_branches(runtime, p, text)
    await publish_closed_month(runtime, p, text)


def daily_task(check_every_s: float):
    async def daily(runtime: Runtime) -> None:
        """The Runtime task: evaluates as of today at start, then every `check_every_s`."""
        while True:
            try:
                await check(runtime, today())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("alert evaluation failed; retried at the next check")
            await asyncio.sleep(check_every_s)
    return daily
