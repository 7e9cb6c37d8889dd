"""Reporting's service layer for service requests and difficulties (issue 13): the request events,
and the `request_overdue` alert, evaluated at the end of the batch for each request the batch's
events are about and by the periodic check (`evaluate_all`: only the calendar makes a request
overdue). Alerts are announced as every other alert is (`handlers.emit_changes`).

A request whose event names no branch (activities had not heard of the member yet) takes the
member's branch on the day it was opened from the member's facts, when reporting has them.
"""
import hashlib
from datetime import datetime, timezone

from services.reporting.adapters.documents import MEMBERS, facts_from_doc
from services.reporting.domain import service_requests as dom
from services.reporting.settings import records_start
from shared.contracts import service_requests as c
from shared.contracts.envelope import Envelope
from shared.messaging.pipeline import Context, Handler
from shared.periods import local_date

REQUESTS = "service_requests"
PAGE = 200


def event_day(ctx: Context) -> str:
    return local_date(ctx.envelope.occurred_at).isoformat()


async def evaluate(ctx: Context, request_id: str, day: str | None, emit_alerts: bool) -> None:
    doc = await ctx.get(REQUESTS, request_id)
    if not doc or not doc.get("opened_on"):
        return
    days = [x for x in (day, doc.get("asked_on"), doc.get("evaluated_on")) if x]
    day = max(days)
    from services.reporting.handlers import emit_changes  # handlers.py builds its table from this module

    current = dom.alerts(doc, day, records_start=records_start())
    before = doc.get("open_alerts", [])
    now = emit_changes(ctx, before, current, day) if emit_alerts else [x.to_dict() for x in current]
    if now != before or doc.get("evaluated_on") != day:
        ctx.put(REQUESTS, doc | {"open_alerts": now, "evaluated_on": day})


def _ask(ctx: Context, doc: dict, emit_alerts: bool) -> None:
    day = event_day(ctx)
    doc["asked_on"] = max(day, doc.get("asked_on") or day)
    ctx.put(REQUESTS, doc)
    request_id = doc["_id"]

    async def work(c2: Context) -> None:
        await evaluate(c2, request_id, None, emit_alerts)
    ctx.defer(("request", request_id), work)


def _cause(runtime, id: str) -> Envelope:
    return Envelope(id=id, type="RequestAlertEvaluation", occurred_at=datetime.now(timezone.utc),
                    district=runtime.settings.district, source=f"sunsetred-{runtime.service}", data={})


async def evaluate_all(runtime, p, day: str) -> None:
    """Every request open, or with an alert open, as of `day`, a page per unit (ids derived from the
    day and the alerts open before, as the leadership check does)."""
    query = {"$or": [{"resolved_on": None}, {"open_alerts.0": {"$exists": True}}]}
    ids = sorted([x["_id"] async for x in runtime.db[REQUESTS].find(query, {"_id": 1})])
    for start in range(0, len(ids), PAGE):
        page = ids[start:start + PAGE]

        async def work(ctx: Context, page=page) -> None:
            for request_id in page:
                await evaluate(ctx, request_id, day, emit_alerts=True)
        before = [(x["_id"], [a["alert_id"] for a in x.get("open_alerts", [])], x.get("evaluated_on")) async for x in
                  runtime.db[REQUESTS].find({"_id": {"$in": page}}, {"open_alerts": 1, "evaluated_on": 1})]
        key = hashlib.sha1(repr(sorted(before)).encode()).hexdigest()
        await p.run_unit(_cause(runtime, f"daily:{day}:requests:{key}"), work, [(REQUESTS, i) for i in page])


def build_handlers(emit_alerts: bool = True) -> dict[str, Handler]:
    async def _doc(ctx: Context, request_id: str) -> dict:
        return await ctx.get(REQUESTS, request_id) or dom.new_doc(request_id)

    async def opened(e: c.ServiceRequestOpened, ctx: Context) -> None:
        doc = await _doc(ctx, e.request_id)
        dom.opened(doc, e)
        if not doc.get("branch_id"):
            facts = facts_from_doc(await ctx.get(MEMBERS, e.member_id), e.member_id, copy=False)  # a private copy
            stint = facts.stint_on(doc["opened_on"]) or (facts.stints() or [None])[-1]
            doc["branch_id"] = stint.branch_id if stint else None
        _ask(ctx, doc, emit_alerts)

    async def assigned(e: c.ServiceRequestAssigned, ctx: Context) -> None:
        doc = await _doc(ctx, e.request_id)
        dom.assigned(doc, e)
        _ask(ctx, doc, emit_alerts)

    async def resolved(e: c.ServiceRequestResolved, ctx: Context) -> None:
        doc = await _doc(ctx, e.request_id)
        dom.resolved(doc, e)
        _ask(ctx, doc, emit_alerts)

    def request(e) -> list:
        return [(REQUESTS, e.request_id), (MEMBERS, e.member_id)]

    return {
        "ServiceRequestOpened": Handler(opened, request),
        "ServiceRequestAssigned": Handler(assigned, request),
        "ServiceRequestResolved": Handler(resolved, request),
    }
