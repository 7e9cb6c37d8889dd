"""Reporting's service layer of a branch's funds (issue 13, item 3): the events that change the
ledger, and its alert (`funds_overdrawn`), evaluated as each event is handled.

`funds`, one document per branch: `entries` {entry_id: {kind, fen, on, source, activity_id,
purpose}}, `open_alerts`, `evaluated_on`. The balance changes only with entries, not with the
calendar, so no periodic check is needed; an entry dated later than the day of its event is
judged on the next event of the branch, or on any read (`GET /alerts` derives it as of its day).
"""
from services.reporting.adapters.documents import ORGS
from services.reporting.domain import funds as dom
from services.reporting.settings import records_start
from shared.contracts import funds as c
from shared.messaging.pipeline import Context, Handler
from shared.periods import local_date

FUNDS = "funds"


def new_doc(branch_id: str) -> dict:
    return {"_id": branch_id, "entries": {}, "open_alerts": []}


def entries_of(doc: dict | None) -> list[dict]:
    return sorted(((doc or {}).get("entries") or {}).values(), key=lambda e: (e["on"], e["entry_id"]))


def build_handlers(emit_alerts: bool = True) -> dict[str, Handler]:
    async def record(ctx: Context, branch_id: str, entry: dict) -> None:
        from services.reporting.handlers import emit_changes  # handlers.py builds its table from this module

        doc = await ctx.get(FUNDS, branch_id) or new_doc(branch_id)
        doc["entries"][entry["entry_id"]] = entry
        day = max(local_date(ctx.envelope.occurred_at).isoformat(), doc.get("evaluated_on") or "")
        alert = dom.overdrawn(entries_of(doc), branch_id, day, records_start=records_start())
        now = [alert] if alert else []
        before = doc.get("open_alerts", [])
        doc["open_alerts"] = emit_changes(ctx, before, now, day) if emit_alerts else [x.to_dict() for x in now]
        doc["evaluated_on"] = day
        ctx.put(FUNDS, doc)

    async def received(e: c.BranchFundsReceived, ctx: Context) -> None:
        await record(ctx, e.branch_id, {"entry_id": e.entry_id, "kind": "in", "fen": int(e.amount * 100),
                                        "on": e.received_on.isoformat(), "source": e.source,
                                        "for_year": e.for_year})

    async def spent(e: c.BranchSpendingRecorded, ctx: Context) -> None:
        await record(ctx, e.branch_id, {"entry_id": e.entry_id, "kind": "out", "fen": int(e.amount * 100),
                                        "on": e.spent_on.isoformat(), "activity_id": e.activity_id,
                                        "purpose": e.purpose})

    def wants(e) -> list:
        return [(FUNDS, e.branch_id), (ORGS, e.branch_id)]

    return {"BranchFundsReceived": Handler(received, wants), "BranchSpendingRecorded": Handler(spent, wants)}
