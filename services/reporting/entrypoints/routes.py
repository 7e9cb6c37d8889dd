"""HTTP reports of the reporting service."""
from datetime import date

from fastapi import APIRouter, HTTPException, Query, Request

from services.reporting.adapters.documents import MEMBERS, ORGS, facts_from_doc
from services.reporting.domain.roster import is_registered_in
from shared.http.errors import NotFound
from shared.periods import parse_period, today

router = APIRouter(prefix="/api/v1", tags=["reports"])


@router.get("/orgs/{org_id}/report", summary="An organisation's report for a period")
async def report(request: Request, org_id: str,
                 period: str = Query(..., description="YYYY-MM, YYYY-Qn or YYYY", examples=["2026-Q1"]),
                 as_of: date | None = Query(None, description="fixes 'now' (default: today)")) -> dict:
    try:
        p = parse_period(period)
    except ValueError as exc:
        raise HTTPException(422, {"field": "period", "message": str(exc)}) from exc
    db = request.app.state.runtime.db
    org = await db[ORGS].find_one({"_id": org_id})
    if org is None:
        raise NotFound("organisation", org_id)
    day = min(p.end, as_of or today()).isoformat()
    registered = 0
    async for doc in db[MEMBERS].find({"orgs": org_id}):
        registered += is_registered_in(facts_from_doc(doc, doc["_id"]), org_id, day)
    return {"org_id": org_id, "name": org["name"], "kind": org["kind"], "period": p.text,
            "as_of": day, "members": {"registered": registered}}
