"""Reporting's service layer for a branch's leadership (issue 13): the events that change it,
and its alerts (`post_vacant`, `term_overdue`, `secretary_untrained`), evaluated once per batch
for each branch the batch's events are about, and by the periodic check (`evaluate_all`), since
the calendar alone opens them.

Each handler records its fact in the branch's `leadership` document, notes the latest day it
was asked about (`asked_on`), and defers the branch's evaluation to the end of the batch: once
per branch, as of the latest day asked, never moving back in time. Alerts are announced as
every other alert is (`handlers.emit_changes`): their event ids derive from their state.
"""
import hashlib
from datetime import datetime, timezone

from services.reporting.adapters.documents import ORGS
from services.reporting.adapters.leadership_store import LEADERSHIP, TRAINEES, leadership_of, new_doc, training_days
from services.reporting.domain import leadership as dom
from services.reporting.settings import leadership_rules, records_start
from shared.contracts import leadership as c
from shared.contracts.envelope import Envelope
from shared.contracts.types import plain
from shared.messaging.pipeline import Context, Handler
from shared.periods import local_date

PAGE = 200  # branches per unit of the periodic check


async def _doc(ctx: Context, branch_id: str) -> dict:
    return await ctx.get(LEADERSHIP, branch_id) or new_doc(branch_id)


def event_day(ctx: Context) -> str:
    return local_date(ctx.envelope.occurred_at).isoformat()


def _ask(ctx: Context, doc: dict, day: str, emit_alerts: bool) -> None:
    """Stage the document and evaluate its branch at the end of the batch, as of the latest day asked."""
    doc["asked_on"] = max(day, doc.get("asked_on") or day)
    ctx.put(LEADERSHIP, doc)
    branch_id = doc["_id"]

    async def work(c2: Context) -> None:
        await evaluate(c2, branch_id, None, emit_alerts)
    ctx.defer(("leadership", branch_id), work)


async def evaluate(ctx: Context, branch_id: str, day: str | None, emit_alerts: bool) -> None:
    """The branch's leadership alerts as of `day` (default: the latest day asked), announced
    when they open, change or close. Writes nothing when nothing changed."""
    org = await ctx.get(ORGS, branch_id)
    doc = await ctx.get(LEADERSHIP, branch_id)
    if not org or org.get("kind") != "branch" or not org.get("placed"):
        return
    doc = doc or new_doc(branch_id)
    days = [x for x in (day, doc.get("asked_on"), doc.get("evaluated_on")) if x]
    if not days:
        return
    day = max(days)
    from services.reporting.handlers import emit_changes  # handlers.py builds its table from this module

    b = leadership_of(doc, org)
    secretary = b.secretary_on(day)
    trainings = {secretary: training_days(await ctx.get(TRAINEES, secretary))} if secretary else {}
    current = dom.alerts(b, day, leadership_rules(), records_start=records_start(), trainings=trainings)
    before = doc.get("open_alerts", [])
    now = emit_changes(ctx, before, current, day) if emit_alerts else [x.to_dict() for x in current]
    if now != before or doc.get("evaluated_on") != day:
        ctx.put(LEADERSHIP, doc | {"open_alerts": now, "evaluated_on": day})


def _cause(runtime, id: str) -> Envelope:
    return Envelope(id=id, type="LeadershipAlertEvaluation", occurred_at=datetime.now(timezone.utc),
                    district=runtime.settings.district, source=f"sunsetred-{runtime.service}", data={})


async def evaluate_all(runtime, p, day: str) -> None:
    """Every branch as of `day`, a page per unit: what only the calendar changes (a term ends, a
    post has been empty too long). The unit's id derives from the day and the alerts open before
    it, so a check repeated after a crash emits the same ids, and one that changes nothing none."""
    ids = sorted([b["_id"] async for b in runtime.db[ORGS].find({"kind": "branch"}, {"_id": 1})])
    for start in range(0, len(ids), PAGE):
        page = ids[start:start + PAGE]

        async def work(ctx: Context, page=page) -> None:
            secretaries = [leadership_of(await ctx.get(LEADERSHIP, i), o).secretary_on(day)
                           for i in page if (o := await ctx.get(ORGS, i))]
            await ctx.uow.prefetch((TRAINEES, s) for s in secretaries if s)  # their training, at once
            for branch_id in page:
                await evaluate(ctx, branch_id, day, emit_alerts=True)
        before = [(x["_id"], [a["alert_id"] for a in x.get("open_alerts", [])], x.get("evaluated_on")) async for x in
                  runtime.db[LEADERSHIP].find({"_id": {"$in": page}}, {"open_alerts": 1, "evaluated_on": 1})]
        key = hashlib.sha1(repr(sorted(before)).encode()).hexdigest()
        await p.run_unit(_cause(runtime, f"daily:{day}:leadership:{key}"), work,
                         [(coll, i) for i in page for coll in (ORGS, LEADERSHIP)])


def build_handlers(emit_alerts: bool = True) -> dict[str, Handler]:
    """The leadership part of reporting's one table of handlers (`handlers.build_handlers`)."""

    async def appointed(e: c.CommitteeMemberAppointed, ctx: Context) -> None:
        doc = await _doc(ctx, e.branch_id)
        dom.appointed(doc["posts"], post=e.post, member_id=e.member_id, name=e.member_name, on=e.on.isoformat())
        _ask(ctx, doc, event_day(ctx), emit_alerts)

    async def removed(e: c.CommitteeMemberRemoved, ctx: Context) -> None:
        doc = await _doc(ctx, e.branch_id)
        dom.removed(doc["posts"], post=e.post, member_id=e.member_id, on=e.on.isoformat())
        _ask(ctx, doc, event_day(ctx), emit_alerts)
        if e.post == dom.SECRETARY:
            from services.reporting.handlers import ask_branch_alerts  # handlers.py imports this module

            # The branch has no secretary any more: its `no_secretary` rule must see it.
            org = await ctx.get(ORGS, e.branch_id)
            if org and org.get("secretary_id") == e.member_id:
                ctx.put(ORGS, org | {"secretary_id": None, "secretary_name": None})
                ask_branch_alerts(ctx, e.branch_id, event_day(ctx), emit_alerts)

    async def election_recorded(e: c.ElectionRecorded, ctx: Context) -> None:
        doc = await _doc(ctx, e.branch_id)
        held_on = e.held_on.isoformat()
        if not any(x["election_id"] == e.election_id for x in doc["elections"]):
            doc["elections"].append({"election_id": e.election_id, "held_on": held_on, "kind": e.kind,
                                     "eligible": e.eligible, "present": e.present})
        if e.kind == "general" and e.term_ends_on:
            dom.term_begun(doc["terms"], election_id=e.election_id, started_on=held_on,
                           ends_on=e.term_ends_on.isoformat())
        _ask(ctx, doc, event_day(ctx), emit_alerts)

    async def trained(ctx: Context, session_id: str, title: str, held_on: str, hours: str, who: c.Trainee) -> None:
        doc = await ctx.get(TRAINEES, who.member_id) or {"_id": who.member_id, "sessions": {}}
        doc["sessions"][session_id] = {"held_on": held_on, "hours": hours, "title": title}
        ctx.put(TRAINEES, doc)
        _ask(ctx, await _doc(ctx, who.branch_id), event_day(ctx), emit_alerts)  # its secretary may be trained now

    async def session_recorded(e: c.TrainingSessionRecorded, ctx: Context) -> None:
        for who in e.attendees:
            await trained(ctx, e.session_id, e.title, e.held_on.isoformat(), plain(e.hours), who)

    async def attendance_recorded(e: c.TrainingAttendanceRecorded, ctx: Context) -> None:
        await trained(ctx, e.session_id, e.title, e.held_on.isoformat(), plain(e.hours), e.attendee)

    # The assessments and the allowance raise no alert: recorded for the report only.
    async def assessed(e: c.SecretaryAssessed, ctx: Context) -> None:
        doc = await _doc(ctx, e.branch_id)
        doc.setdefault("assessments", {})[f"{e.year}|{e.member_id}"] = {
            "year": e.year, "member_id": e.member_id, "name": e.member_name, "result": e.result}
        ctx.put(LEADERSHIP, doc)

    async def allowance_set(e: c.SecretaryAllowanceSet, ctx: Context) -> None:
        doc = await _doc(ctx, e.branch_id)
        rates = [r for r in doc.get("allowance_rates", []) if r["from_month"] != e.from_month]
        doc["allowance_rates"] = sorted([*rates, {"from_month": e.from_month, "amount": f"{e.monthly_amount:.2f}"}],
                                        key=lambda r: r["from_month"])
        ctx.put(LEADERSHIP, doc)

    async def allowance_paid(e: c.AllowancePaid, ctx: Context) -> None:
        doc = await _doc(ctx, e.branch_id)
        doc.setdefault("allowance_payments", {})[e.payment_id] = {
            "member_id": e.member_id, "paid_on": e.paid_on.isoformat(),
            "months": [{"month": x.month, "amount": f"{x.amount:.2f}"} for x in e.months]}
        ctx.put(LEADERSHIP, doc)

    def branch(e) -> list:
        return [(ORGS, e.branch_id), (LEADERSHIP, e.branch_id)]

    def attendees(e) -> list:
        people = e.attendees if isinstance(e, c.TrainingSessionRecorded) else [e.attendee]
        return [*((TRAINEES, x.member_id) for x in people), *((LEADERSHIP, x.branch_id) for x in people),
                *((ORGS, x.branch_id) for x in people)]

    return {
        "CommitteeMemberAppointed": Handler(appointed, branch),
        "CommitteeMemberRemoved": Handler(removed, branch),
        "ElectionRecorded": Handler(election_recorded, branch),
        "TrainingSessionRecorded": Handler(session_recorded, attendees),
        "TrainingAttendanceRecorded": Handler(attendance_recorded, attendees),
        "SecretaryAssessed": Handler(assessed, branch),
        "SecretaryAllowanceSet": Handler(allowance_set, branch),
        "AllowancePaid": Handler(allowance_paid, branch),
    }
