"""Read side of service requests and difficulties (issue 13): the report's section `services`, the
`request_overdue` alerts as of a day, and the list of a subtree's requests."""
import asyncio

from services.reporting.adapters.documents import MEMBERS, facts_from_doc
from services.reporting.domain import service_requests as dom
from services.reporting.service_requests import REQUESTS
from services.reporting.settings import records_start
from shared.periods import Period


def _in(branches: list[dict], day: str, since: str | None = None) -> dict:
    """The requests of these branches opened by `day` (and not resolved before `since`)."""
    ids = [b["_id"] for b in branches]
    q: dict = {"branch_id": ids[0] if len(ids) == 1 else {"$in": ids}, "opened_on": {"$lte": day}}
    if since:
        q["$or"] = [{"resolved_on": None}, {"resolved_on": {"$gte": since}}]
    return q


async def _docs(db, branches: list[dict], day: str, since: str | None = None) -> list[dict]:
    return (await _placed(db, branches, day, since))[0]


async def _placed(db, branches: list[dict], day: str, since: str | None = None) -> tuple[list[dict], bool]:
    """The requests of these branches; and those whose event named no branch (activities had not
    heard of the member, and reporting had not either when it came), placed now by the member's
    facts. The flag says whether any such request was looked at (the answer then depends on the
    members' facts too)."""
    if not branches:
        return [], False
    docs, unplaced = await asyncio.gather(
        db[REQUESTS].find(_in(branches, day, since), {"open_alerts": 0}).to_list(None),
        db[REQUESTS].find({"branch_id": None, "opened_on": {"$lte": day}}, {"open_alerts": 0}).to_list(None))
    if unplaced:
        wanted = {b["_id"] for b in branches}
        facts = {x["_id"]: facts_from_doc(x, x["_id"], copy=False) async for x in
                 db[MEMBERS].find({"_id": {"$in": sorted({d["member_id"] for d in unplaced})}}, {"facts": 1})}
        for d in unplaced:
            f = facts.get(d["member_id"])
            stint = f.stint_on(d["opened_on"]) if f else None
            if stint is not None and stint.branch_id in wanted:
                docs.append(d | {"branch_id": stint.branch_id})
    return docs, bool(unplaced)


async def report_section(db, branches: list[dict], period: Period, day: str) -> dict:
    return (await report_section_of_documents(db, branches, period, day))[0]


async def report_section_of_documents(db, branches: list[dict], period: Period, day: str) -> tuple[dict, bool]:
    """The section, and whether it was computed from the requests' documents alone (no request
    placed by a member's facts): only then may it be kept against the documents' checksum."""
    docs, by_facts = await _placed(db, branches, day, period.start.isoformat())
    return {"services": dom.figures(docs, period, day)}, not by_facts


async def alerts(db, branches: list[dict], day: str) -> list[dict]:
    docs = await _docs(db, branches, day, day)
    names = await _names(db, {d["member_id"] for d in docs})
    return [x.to_dict() | {"subject_name": names.get(d["member_id"])} for d in docs
            for x in dom.alerts(d, day, records_start=records_start())]


async def listing(db, branches: list[dict], day: str, status: str | None, period: Period | None,
                  limit: int = 500) -> dict:
    """The requests (newest first) with their status on the day; `status` open · overdue · resolved."""
    docs = await _docs(db, branches, day)
    if period:
        docs = [d for d in docs if period.start.isoformat() <= d["opened_on"] <= min(period.end.isoformat(), day)]
    names = await _names(db, {d["member_id"] for d in docs})
    rows = [dom.row(d, day, names) for d in docs]
    wanted = {"unresolved": {"open", "overdue"}}.get(status or "", {status})
    rows = [r for r in rows if status is None or r["status"] in wanted]
    rows.sort(key=lambda r: (r["opened_on"], r["request_id"]), reverse=True)
    return {"as_of": day, "items": rows[:limit], "total": len(rows)}


async def of_member(db, member_id: str, day: str) -> list[dict]:
    """A member's requests (the ledger's), newest first."""
    docs = await db[REQUESTS].find({"member_id": member_id, "opened_on": {"$lte": day}}, {"open_alerts": 0}).to_list(None)
    rows = [dom.row(d, day, {}) for d in docs]
    return sorted(rows, key=lambda r: (r["opened_on"], r["request_id"]), reverse=True)


async def _names(db, ids: set[str]) -> dict[str, str | None]:
    return {x["_id"]: (x.get("facts") or {}).get("name")
            async for x in db[MEMBERS].find({"_id": {"$in": sorted(ids)}}, {"facts.name": 1})}
