"""Once a day: evaluate every alert as of today, and publish the reports of a month that closed.

Alerts are also evaluated on every event (handlers.py); this pass catches what only the
calendar changes (a run of unpaid months grows at midnight). It runs as background units of the
projections pipeline (`Pipeline.run_unit`), each committed in one transaction with ids derived
from the day, so a crash or a second run the same day announces nothing twice.

Several instances of reporting may run at once: a lease (`shared.messaging.leases`) decides
which one runs a day's member pass (`daily:<alerts_key>`, renewed at every page; if its holder
dies, another instance takes it over once it expires) and which one runs the periodic checks of
branches and closed months (`check`).
"""
import asyncio
import hashlib
import inspect
import logging
import os
import socket
from datetime import date, datetime, timezone

from services.reporting import leadership, queries, service_requests
from services.reporting.adapters.documents import MEMBERS, ORGS, STATE, alerts_key
from services.reporting.domain import days as d
from services.reporting.handlers import MemberUpdater, loaded, refresh_branch_alerts
from services.reporting.settings import records_start
from shared.contracts.envelope import Envelope
from shared.contracts.reporting import PeriodReportPublished
from shared.messaging.pipeline import Context, Pipeline
from shared.periods import parse_period, today
from shared.runtime import Runtime

log = logging.getLogger(__name__)
PAGE = 200  # members, branches or organisations per unit: one transaction each
DAILY_LEASE_S = 900.0  # the member pass's lease, renewed before every page


def _owner(runtime: Runtime) -> str:
    settings = runtime.settings
    if hasattr(settings, "instance"):
        return settings.instance(runtime.service)
    return f"{runtime.service}@{socket.gethostname()}:{os.getpid()}"


async def hold(runtime: Runtime, name: str, ttl_s: float) -> bool:
    """Take or renew the lease `name` for this instance; True when it holds it."""
    try:
        from shared.messaging.leases import acquire
    except ImportError:  # a platform without leases runs one instance of reporting
        return True
    held = acquire(runtime.db, name, _owner(runtime), ttl_s)
    return bool(await held if inspect.isawaitable(held) else held)


def _cause(runtime: Runtime, id: str, type_: str) -> Envelope:
    return Envelope(id=id, type=type_, occurred_at=datetime.now(timezone.utc), district=runtime.settings.district,
                    source=f"sunsetred-{runtime.service}", data={})


async def evaluate_members(runtime: Runtime, p: Pipeline, day: str, key: str) -> bool:
    """Every member as of `day`, in pages by `_id`, while this instance holds the pass's lease.
    `key`: what the pass stores the members' alerts for (`alerts_key`: the day, where the records
    begin and the rules' version), naming its lease and units, so that a pass for a new key runs
    again on the same day. Returns whether the pass went through every member."""
    update = MemberUpdater(emit_alerts=True)
    last = ""
    while True:
        if not await hold(runtime, f"daily:{key}", DAILY_LEASE_S):
            return False  # another instance runs this day's pass
        page = [x["_id"] async for x in runtime.db[MEMBERS].find({"_id": {"$gt": last}}, {"_id": 1})
                .sort("_id", 1).limit(PAGE)]
        if not page:
            return True

        async def work(ctx: Context, page=page) -> None:
            for member_id in page:
                # Their facts unchanged (`loaded`): nothing to count, their alerts as of the day.
                await update.refresh(ctx, loaded(await ctx.get(MEMBERS, member_id), member_id), day)
        await p.run_unit(_cause(runtime, f"daily:{key}:members:{page[0]}", "DailyAlertEvaluation"), work,
                         [(MEMBERS, i) for i in page])
        last = page[-1]


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
    """PeriodReportPublished, once per organisation, for the month before `day`'s: a unit per page
    of organisations, so a district of thousands is neither held in memory nor committed at once
    (each report is worked out just before its page's unit). A page committed is not late any
    more, so a crash between pages leaves only the pages after it to publish."""
    month = d.prev_month(d.month_of(day))
    period = parse_period(month)
    late = {"$or": [{"published_month": {"$lt": month}}, {"published_month": None}]}
    ids = [o["_id"] for o in await runtime.db[ORGS].find(late, {"_id": 1}).sort("_id", 1).to_list(None)]
    for start in range(0, len(ids), PAGE):
        page = ids[start:start + PAGE]
        # Published, not read by anyone now: their sections are not kept fresh for the hour after.
        # They were, every community's and the district's, recomputed every 20 s while events
        # changed what they read: in a 20,000-member district's catch-up, a third of the time
        # reporting's database commands took as it saw them (docs/benchmarks.md).
        reports = [await queries.report(runtime.db, org_id, period, period.end, asked=False) for org_id in page]

        async def work(ctx: Context, reports=reports) -> None:
            for r in reports:
                ctx.emit(PeriodReportPublished(org_id=r["org_id"], period=month, report=r))
                doc = await ctx.get(ORGS, r["org_id"])
                ctx.put(ORGS, doc | {"published_month": month})
        key = hashlib.sha1(",".join(page).encode()).hexdigest()
        await p.run_unit(_cause(runtime, f"published:{month}:{key}", "MonthClosed"), work,
                         [(ORGS, org_id) for org_id in page])


async def check(runtime: Runtime, day: date, check_every_s: float = 600) -> None:
    """Members once a day (a run of unpaid months grows at midnight), and again the same day when
    where the records begin or the member rules changed (the stored alerts the list reads would be
    another key's: queries.member_alerts); branches and closed months at every check, so a new
    branch is neither unwatched nor unpublished until tomorrow."""
    p, text = runtime.pipelines[0], day.isoformat()
    key = alerts_key(text, records_start())
    state = await runtime.db[STATE].find_one({"_id": "daily"})
    due = not state or state["day"] < text or (state["day"] == text and state.get("alerts_of") != key)
    if due and await evaluate_members(runtime, p, text, key):
        async def done(ctx: Context) -> None:
            ctx.put(STATE, {"_id": "daily", "day": text, "alerts_of": key})
        await p.run_unit(_cause(runtime, f"daily:{key}:done", "DailyAlertEvaluation"), done, [(STATE, "daily")])
        log.info("daily member evaluation done", extra={"day": text, "alerts_of": key})
    if await hold(runtime, "check", max(30.0, 3 * check_every_s)):
        await evaluate_branches(runtime, p, text)
        await leadership.evaluate_all(runtime, p, text)  # committees and secretaries (issue 13)
        await service_requests.evaluate_all(runtime, p, text)  # requests overdue (issue 13)
        await publish_closed_month(runtime, p, text)


def daily_task(check_every_s: float):
    async def daily(runtime: Runtime) -> None:
        """The Runtime task: evaluates as of today at start, then every `check_every_s`."""
        while True:
            try:
                await check(runtime, today(), check_every_s)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("alert evaluation failed; retried at the next check")
            await asyncio.sleep(check_every_s)
    return daily
