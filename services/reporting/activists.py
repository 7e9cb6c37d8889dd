"""Reporting's service layer of the way into the Party (issue 13, item 5): the applicants' events
kept in `applicants`, one document per person (domain/activists.py says what it holds). The stages
are kept by their order number (`seq`), so a repeated or late event changes nothing else.

`probation_overdue` is derived on every read of `GET /api/v1/alerts` (the calendar alone opens
it); it is not announced on Kafka."""
from shared.contracts import activists as c
from shared.messaging.pipeline import Context, Handler

APPLICANTS = "applicants"


def build_handlers(emit_alerts: bool = True) -> dict[str, Handler]:
    async def change(ctx: Context, e, stage: str, on: str, reason: str | None = None,
                     contacts: list | None = None, **fields) -> None:
        doc = await ctx.get(APPLICANTS, e.applicant_id) or {"_id": e.applicant_id, "history": {}, "contacts": []}
        doc.update(branch_id=e.branch_id, name=e.name, **fields)
        doc["history"][str(e.seq)] = {"stage": stage, "on": on, "seq": e.seq, "reason": reason}
        if contacts is not None and e.seq >= doc.get("contacts_seq", 0):
            doc["contacts"], doc["contacts_seq"] = contacts, e.seq
        ctx.put(APPLICANTS, doc)

    async def applied(e: c.PartyApplicationRecorded, ctx: Context) -> None:
        await change(ctx, e, "applicant", e.applied_on.isoformat(), applied_on=e.applied_on.isoformat())

    async def advanced(e: c.ApplicantAdvanced, ctx: Context) -> None:
        await change(ctx, e, e.stage, e.on.isoformat(), contacts=[x.model_dump() for x in e.contacts])

    async def set_back(e: c.ApplicantSetBack, ctx: Context) -> None:
        await change(ctx, e, e.stage, e.on.isoformat(), reason=e.reason)

    def wants(e) -> list:
        return [(APPLICANTS, e.applicant_id)]

    return {"PartyApplicationRecorded": Handler(applied, wants), "ApplicantAdvanced": Handler(advanced, wants),
            "ApplicantSetBack": Handler(set_back, wants)}
