"""HTTP queries of the members service: the tree, member lists, search, the ledger, the audit trail.

Every route needs a token and the right `entrypoints/rights.py` gives it; records outside the
caller's scope (its subtree; a specialist's members; a member's own record) answer 404. Personal
data is masked as `shared.auth.masking` says, unless unmasked with `?reveal=…&reason=…`.
Lists are paginated (`page`, `page_size`: `shared.http.paging`) and answer
`{items, total, page, page_size, has_more}`.
"""
import re
from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request

from services.members.adapters import queries
from services.members.adapters.documents import member_from_doc
from services.members.adapters.org_counts import member_counts
from services.members.domain import labels as L
from services.members.domain import ledger as views
from services.members.domain.organization import COMMITTEE_THRESHOLD, MIN_BRANCH_MEMBERS
from shared.auth.claims import Caller
from shared.auth.http import Forbidden, authorized, viewer
from shared.auth.masking import Viewer
from shared.contracts.codes import Health, MemberStatus
from shared.http.errors import NotFound
from shared.http.paging import PAGE, PAGE_SIZE, paging, skip
from shared.messaging.unit_of_work import VERSION
from shared.periods import today

router = APIRouter(prefix="/api/v1", tags=["members"], dependencies=[Depends(authorized)])
DayQuery = Query(None, description="the day statuses are computed for (YYYY-MM-DD); default today")


def _db(request: Request):
    return request.app.state.runtime.db


def _page(items: list, total: int, page: int, page_size: int) -> dict:
    return {"items": items, **paging(total, page, page_size)}


async def _org_in_scope(request: Request, org_id: str, caller: Caller) -> dict:
    org = await queries.org(_db(request), org_id)
    if org is None or not caller.sees([*org.get("ancestors", []), org_id]):
        raise NotFound("organisation", org_id)
    return org


def _as_of(as_of: date | None) -> str:
    return (as_of or today()).isoformat()


def _row(who: Viewer, m, day: str) -> dict:
    return who.record(views.summary(m, day), member_id=m.member_id, path=m.org_path, specialist_id=m.specialist_id)


@router.get("/orgs/{org_id}", summary="An organisation with its children")
async def get_org(org_id: str, request: Request, caller: Caller = Depends(authorized)) -> dict:
    db = _db(request)
    org = await _org_in_scope(request, org_id, caller)
    children = await queries.children(db, org_id)
    secretary = None
    if org.get("secretary_id"):
        name = (await queries.names(db, [org["secretary_id"]])).get(org["secretary_id"])
        secretary = {"member_id": org["secretary_id"], "name": name}
    counts = await member_counts(db, org_id, [org_id, *(ch["_id"] for ch in children)])
    member_count = counts[org_id]
    org.pop(VERSION, None)  # the unit of work's, not the organisation's
    org["org_id"] = org.pop("_id")
    org.update({
        "kind_label": L.KIND[org["kind"]], "secretary": secretary, "member_count": member_count,
        "merged": bool(org.get("merged_into")),
        "awards": [{**a, "category_label": L.label(L.AWARD, a["category"])} for a in org.get("awards", [])],
        "children": [{"org_id": ch["_id"], "name": ch["name"], "kind": ch["kind"], "kind_label": L.KIND[ch["kind"]],
                      "member_count": counts[ch["_id"]], "merged_into": ch.get("merged_into"),
                      "secretary_id": ch.get("secretary_id")} for ch in children],
    })
    if org["kind"] == "branch":
        org["too_small"] = member_count < MIN_BRANCH_MEMBERS  # 化并转: merge, dissolve or transfer
        org["committee_required"] = member_count >= COMMITTEE_THRESHOLD
    return org


@router.get("/orgs/{org_id}/members", summary="The members of a branch (or of every branch in a subtree)")
async def org_members(
    org_id: str, request: Request, who: Viewer = Depends(viewer),
    status: MemberStatus | None = Query(None, description="resident · away · exempt · transferred · deceased"),
    health: Health | None = None, lives_alone: bool | None = None,
    specialist_id: str | None = Query(None, description="members of this one-to-one specialist"),
    has_specialist: bool | None = None, as_of: date | None = DayQuery,
    page: int = PAGE, page_size: int = PAGE_SIZE,
) -> dict:
    await _org_in_scope(request, org_id, who.caller)
    day = _as_of(as_of)
    query: dict = {"org_path": org_id}
    if health:
        if "health" not in who.revealed:  # the list would tell every member's health
            raise Forbidden("按健康状况筛选须说明理由查看健康信息（reveal=health&reason=…）")
        query["profile.health"] = health
    if lives_alone is not None:
        query["profile.lives_alone"] = lives_alone
    if specialist_id:
        query["specialist_id"] = specialist_id
    if has_specialist is not None:
        query["$and"] = [{"specialist_id": {"$ne": None} if has_specialist else None}]
    if status is None:  # a page read as such: a district's list is not read whole for 50 rows
        docs, total = await queries.members_page(_db(request), query, skip(page, page_size), page_size)
        return {**_page([_row(who, member_from_doc(d), day) for d in docs], total, page, page_size), "as_of": day}
    # A member's status on the day is worked out from their away periods and dates, not stored: the
    # subtree is read through, one member at a time, and only the page's rows are made
    start, total, rows = skip(page, page_size), 0, []
    async for doc in queries.each_member(_db(request), query):
        m = member_from_doc(doc)
        if m.status_on(day) == status:
            if start <= total < start + page_size:
                rows.append(_row(who, m, day))
            total += 1
    return {**_page(rows, total, page, page_size), "as_of": day}


@router.get("/members", summary="Search members by name (Chinese characters or any part of the name)")
async def search_members(
    request: Request, who: Viewer = Depends(viewer),
    name: str = Query(..., min_length=1, max_length=50, pattern=r"\S", description="a name or part of one, e.g. 王 or 秀英"),
    org_id: str | None = Query(None, description="only within this subtree"), as_of: date | None = DayQuery,
    page: int = PAGE, page_size: int = PAGE_SIZE,
) -> dict:
    query: dict = {"name": {"$regex": re.escape(name.strip())}}
    if org_id:
        await _org_in_scope(request, org_id, who.caller)
        query["org_path"] = org_id
    elif not who.caller.whole_district:
        query["org_path"] = {"$in": list(who.caller.org_ids)}
    docs, total = await queries.members_page(_db(request), query, skip(page, page_size), page_size)
    day = _as_of(as_of)
    return {**_page([_row(who, member_from_doc(d), day) for d in docs], total, page, page_size), "as_of": day}


async def _member_in_scope(request: Request, member_id: str, caller: Caller):
    doc = await queries.member(_db(request), member_id)
    if doc is None or not caller.sees_member(member_id=member_id, path=doc.get("org_path", []),
                                             specialist_id=doc.get("specialist_id")):
        raise NotFound("member", member_id)
    return member_from_doc(doc)


@router.get("/members/{member_id}", summary="One member's whole ledger")
async def get_member(
    member_id: str, request: Request, who: Viewer = Depends(viewer), as_of: date | None = DayQuery,
    year: int | None = Query(None, ge=1921, le=2200, description="the year of the dues months shown; default as_of's"),
) -> dict:
    m = await _member_in_scope(request, member_id, who.caller)
    db = _db(request)
    day = _as_of(as_of)
    branch = await queries.org(db, m.branch_id)
    ledger = views.ledger(m, as_of=day, year=year or int(day[:4]),
                          branch_name=branch.get("name") if branch else None, payments=await queries.payments(db, member_id))
    from services.members import visit_findings  # visits' health and needs, requests (issue 13)

    ledger.update(visit_findings.ledger_part(await queries.visit_log(db, member_id), day))
    return who.record(ledger, member_id=m.member_id, path=m.org_path, specialist_id=m.specialist_id)


async def _trail(request: Request, subject_id: str, order: str, page: int, page_size: int) -> dict:
    docs, total = await queries.trail(_db(request), subject_id, order, skip(page, page_size), page_size)
    items = [{"command_id": d["command_id"], "command_type": d["command_type"], "source": d["source"],
              "actor": d.get("actor"), "time": d["at"], "before": d["before"], "after": d["after"]} for d in docs]
    return _page(items, total, page, page_size)


@router.get("/members/{member_id}/history", summary="The audit trail of every change to a member")
async def member_history(
    member_id: str, request: Request, who: Viewer = Depends(viewer),
    order: Literal["asc", "desc"] = "asc", page: int = PAGE, page_size: int = PAGE_SIZE,
) -> dict:
    m = await _member_in_scope(request, member_id, who.caller)
    trail = await _trail(request, member_id, order, page, page_size)
    return who.record(trail, member_id=m.member_id, path=m.org_path, specialist_id=m.specialist_id)


@router.get("/orgs/{org_id}/history", summary="The audit trail of every change to an organisation")
async def org_history(
    org_id: str, request: Request, who: Viewer = Depends(viewer),
    order: Literal["asc", "desc"] = "asc", page: int = PAGE, page_size: int = PAGE_SIZE,
) -> dict:
    org = await _org_in_scope(request, org_id, who.caller)
    trail = await _trail(request, org_id, order, page, page_size)
    # a branch's changes carry its secretary's allowance (rates and payments): their pay
    return who.record(trail, member_id=None, path=[*org.get("ancestors", []), org_id], specialist_id=None)


@router.get("/specialists/{specialist_id}/members",
            summary="The members assigned to a one-to-one specialist (within the caller's scope)")
async def specialist_members(
    specialist_id: str, request: Request, who: Viewer = Depends(viewer), as_of: date | None = DayQuery,
    page: int = PAGE, page_size: int = PAGE_SIZE,
) -> dict:
    caller = who.caller
    if caller.role == "specialist" and specialist_id != caller.specialist_id:
        raise NotFound("specialist", specialist_id)
    query: dict = {"specialist_id": specialist_id}
    if caller.role != "specialist" and not caller.whole_district:
        query["org_path"] = {"$in": list(caller.org_ids)}
    docs, total = await queries.members_page(_db(request), query, skip(page, page_size), page_size)
    if not total:
        raise NotFound("specialist", specialist_id)
    day = _as_of(as_of)
    rows = [_row(who, member_from_doc(d), day) for d in docs]
    return {**_page(rows, total, page, page_size), "as_of": day, "specialist_id": specialist_id}
