"""HTTP queries of the activities service.

Every route needs a token and the right `entrypoints/rights.py` gives it. What lies outside the
caller's subtree answers 404: an activity is the caller's when one of its branches is, a venue
when the organisation it belongs to is; lists hold only the caller's branches, a page at a time
(`page`, `page_size` ≤ 500).
"""
from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError

from services.activities.adapters import queries
from services.activities.domain.activity import present_in_person
from services.activities.domain.plan import Planned, plan
from services.activities.entrypoints.views import activity_detail, activity_summary
from shared.auth.claims import Caller
from shared.auth.http import authorized
from shared.contracts.codes import ActivityKind
from shared.http.errors import NotFound
from shared.http.paging import PAGE, PAGE_SIZE, paging, skip
from shared.messaging.unit_of_work import VERSION
from shared.periods import Period, parse_period
from shared.rules import labels

router = APIRouter(prefix="/api/v1", tags=["activities"], dependencies=[Depends(authorized)])
PERIOD_HELP = "YYYY-MM, YYYY-Qn or YYYY (Asia/Shanghai)"


def _db(request: Request):
    return request.app.state.runtime.db


def _period(text: str | None) -> Period | None:
    if text is None:
        return None
    try:
        return parse_period(text)
    except ValueError as exc:
        raise RequestValidationError([{"loc": ("query", "period"), "msg": str(exc), "type": "value_error"}]) from None


async def _branch(request: Request, branch_id: str, caller: Caller) -> dict:
    doc = await queries.branch(_db(request), branch_id)
    if doc is None or not doc.get("established") or not caller.sees([*doc.get("ancestors", []), branch_id]):
        raise NotFound("branch", branch_id)
    return doc


def _branch_head(doc: dict) -> dict:
    return {"branch_id": doc["_id"], "name": doc["name"], "has_committee": doc["has_committee"],
            "party_groups": doc["party_groups"], "merged_into": doc.get("merged_into")}


@router.get("/activities", summary="Activities by branch, period, kind and status (paginated)")
async def list_activities(request: Request, caller: Caller = Depends(authorized), branch_id: str | None = None,
                          period: str | None = Query(None, description=PERIOD_HELP),
                          kind: ActivityKind | None = None,
                          status: str | None = Query(None, pattern="^(scheduled|held|cancelled)$"),
                          page: int = Query(1, ge=1, le=10_000), page_size: int = Query(50, ge=1, le=500)) -> dict:
    q = queries.activity_filter(branch_id=branch_id, period=_period(period), kind=kind, status=status)
    db = _db(request)
    if branch_id:
        if not caller.sees((await queries.branch_paths(db, [branch_id]))[branch_id]):
            raise NotFound("branch", branch_id)
    elif not caller.whole_district:
        q["branch_ids"] = {"$in": await queries.branches_under(db, list(caller.org_ids))}
    docs = await queries.find_activities(db, q, skip=(page - 1) * page_size, limit=page_size)
    return {"items": [activity_summary(d) for d in docs], "total": await queries.count_activities(db, q),
            "page": page, "page_size": page_size}


@router.get("/activities/{activity_id}", summary="One activity with its attendance and minutes")
async def get_activity(activity_id: str, request: Request, caller: Caller = Depends(authorized)) -> dict:
    db = _db(request)
    doc = await queries.activity(db, activity_id)
    if doc is None or not any(caller.sees(p) for p in (await queries.branch_paths(db, doc["branch_ids"])).values()):
        raise NotFound("activity", activity_id)
    names = await queries.member_names(db, [a["member_id"] for a in doc.get("attendance", [])])
    return activity_detail(doc, names)


@router.get("/venues/{venue_id}", summary="One venue (活动阵地)")
async def get_venue(venue_id: str, request: Request, caller: Caller = Depends(authorized)) -> dict:
    doc = await queries.venue(_db(request), venue_id)
    if doc is None or not caller.sees(await queries.org_path(_db(request), doc["org_id"])):
        raise NotFound("venue", venue_id)
    doc.pop(VERSION, None)  # the unit of work's, not the venue's
    doc["venue_id"] = doc.pop("_id")
    return doc


@router.get("/venues/{venue_id}/bookings", summary="A venue's bookings (not cancelled), in time order")
async def venue_bookings(venue_id: str, request: Request, caller: Caller = Depends(authorized),
                         period: str | None = Query(None, description=PERIOD_HELP),
                         page: int = PAGE, page_size: int = PAGE_SIZE) -> dict:
    await get_venue(venue_id, request, caller)
    q = queries.activity_filter(venue_id=venue_id, period=_period(period))
    q["status"] = {"$ne": "cancelled"}
    db = _db(request)
    docs = await queries.find_activities(db, q, skip=skip(page, page_size), limit=page_size)
    return {"venue_id": venue_id, "period": period, "bookings": [activity_summary(d) for d in docs],
            **paging(await queries.count_activities(db, q), page, page_size)}


@router.get("/venues/{venue_id}/use", summary="How a venue was used in a period, by kind of activity")
async def venue_use(venue_id: str, request: Request, caller: Caller = Depends(authorized),
                    period: str = Query(..., description=PERIOD_HELP)) -> dict:
    venue = await get_venue(venue_id, request, caller)
    q = queries.activity_filter(venue_id=venue_id, period=_period(period))
    q["status"] = {"$ne": "cancelled"}
    by_kind: dict[str, dict] = {}
    for d in await queries.find_activities(_db(request), q):
        row = by_kind.setdefault(d["kind"], {"kind": d["kind"], "label": labels.ACTIVITY_KINDS[d["kind"]],
                                             "activities": 0, "held": 0, "hours": Decimal(0), "attendees": 0,
                                             "over_capacity": 0})
        row["activities"] += 1
        row["hours"] += _hours(d)
        if d["status"] == "held":
            row["held"] += 1
            row["attendees"] += present_in_person(d.get("attendance", []))
            row["over_capacity"] += bool(d.get("over_capacity"))
    rows = sorted(by_kind.values(), key=lambda r: (-r["activities"], r["kind"]))
    for r in rows:
        r["hours"] = str(r["hours"])
    return {"venue_id": venue_id, "name": venue["name"], "capacity": venue["capacity"], "period": period,
            "activities": sum(r["activities"] for r in rows), "by_kind": rows}


def _hours(doc: dict) -> Decimal:
    span = datetime.fromisoformat(doc["ends_at"]) - datetime.fromisoformat(doc["starts_at"])
    return (Decimal(int(span.total_seconds())) / 3600).quantize(Decimal("0.01"))


@router.get("/branches/{branch_id}/calendar", summary="A branch's calendar: its activities day by day")
async def branch_calendar(branch_id: str, request: Request, caller: Caller = Depends(authorized),
                          period: str = Query(..., description=PERIOD_HELP)) -> dict:
    b = await _branch(request, branch_id, caller)
    docs = await queries.find_activities(_db(request), queries.activity_filter(branch_id=branch_id,
                                                                               period=_period(period)))
    days: dict[str, list] = {}
    for d in docs:
        days.setdefault(d["held_on"], []).append(activity_summary(d))
    return {**_branch_head(b), "period": period,
            "days": [{"date": day, "activities": acts} for day, acts in sorted(days.items())]}


@router.get("/branches/{branch_id}/plan",
            summary="The planner: required, scheduled, held and missing organisational life in a period")
async def branch_plan(branch_id: str, request: Request, caller: Caller = Depends(authorized),
                      period: str = Query(..., description=PERIOD_HELP)) -> dict:
    p = _period(period)
    b = await _branch(request, branch_id, caller)
    docs = await queries.find_activities(_db(request), queries.activity_filter(branch_id=branch_id, period=p))
    planned = [Planned(d["_id"], d["kind"], d["title"], d["held_on"], d["status"]) for d in docs]
    rules = request.app.state.runtime.extras["org_life_rules"]
    return {**_branch_head(b), **plan(p, has_committee=b["has_committee"], party_groups=b["party_groups"],
                                      rules=rules, activities=planned)}
