"""HTTP queries of the notifications service: the proof of delivery, door work, feedback.

Every route needs a token and the right `entrypoints/rights.py` gives it. A caller below the
district sees a notice when it reached (or is addressed to) someone in their subtree, and then
only those recipients; a specialist sees only their own door work. What lies outside answers
404; members' health is masked as `shared.auth.masking` says. Every list is bounded: a notice's
recipients by a cursor (`limit` ≤ 2,000), door work, feedback and an audience's recipients by page
(`page`, `page_size` ≤ 500: `shared.http.paging`).
"""
from datetime import date

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from services.notifications.adapters import queries
from services.notifications.domain.channels import plan
from services.notifications.domain.recipients import in_audience, open_until
from shared.auth.claims import Caller
from shared.auth.http import authorized, viewer
from shared.auth.masking import Viewer
from shared.http.errors import NotFound, unprocessable
from shared.http.paging import PAGE, PAGE_SIZE, paging, skip
from shared.messaging.unit_of_work import VERSION
from shared.periods import parse_period, today

router = APIRouter(prefix="/api/v1", tags=["notices"], dependencies=[Depends(authorized)])
STATES = ("pending", "sending", "delivered", "door_assigned", "door_done", "exhausted", "unreachable", "acknowledged")


def _db(request: Request):
    return request.app.state.runtime.db


def _unprocessable(field: str, message: str) -> JSONResponse:
    return unprocessable([{"field": field, "message": message}])  # said in Chinese, as every service does


async def _branches_of(db, caller: Caller) -> set[str] | None:
    """The branches of the caller's subtree; None for the whole district."""
    return None if caller.whole_district else await queries.branches_under(db, list(caller.org_ids))


async def _notice_in_scope(db, notice_id: str, caller: Caller) -> tuple[dict, set[str] | None]:
    """The notice and the caller's branches, or 404 when nothing of it reached the caller's subtree."""
    notice = await queries.notice(db, notice_id)
    if notice is None:
        raise NotFound("notice", notice_id)
    mine = await _branches_of(db, caller)
    if mine is None:
        return notice, None
    audience = notice.get("audience") or {}
    if await queries.reaches_branches(db, notice_id, mine):
        return notice, mine
    for org_id in audience.get("org_ids", []):
        path = await queries.org_path(db, org_id)
        if path and caller.sees(path):
            return notice, mine
    if await queries.any_member_in(db, audience.get("member_ids", []), mine):
        return notice, mine
    raise NotFound("notice", notice_id)


@router.get("/notices/{notice_id}", summary="One notice")
async def get_notice(notice_id: str, request: Request, caller: Caller = Depends(authorized)) -> dict:
    db = _db(request)
    doc, mine = await _notice_in_scope(db, notice_id, caller)
    if mine is not None and "recipients" in doc:  # only the recipients of the caller's subtree
        ours = await queries.recipients_in(db, notice_id, mine)
        doc["recipients"] = [m for m in doc["recipients"] if m in ours]
    doc.pop(VERSION, None)  # the unit of work's, not the notice's
    doc["notice_id"] = doc.pop("_id")
    return doc


@router.get("/notices/{notice_id}/status",
            summary="A notice's proof of delivery: each recipient's channel, attempts, delivery and acknowledgement")
async def notice_status(notice_id: str, request: Request, who: Viewer = Depends(viewer),
                        state: str | None = Query(None, description="only the recipients in this state"),
                        after: str | None = Query(None, max_length=260,
                                                  description="the page after this one (`page.next_after`)"),
                        limit: int = Query(500, ge=1, le=2000, description="recipients per page")) -> dict:
    """The summary counts every recipient the caller may see; the recipients come a page at a time,
    branch by branch, by member id within a branch: a district-wide notice reaches tens of thousands
    of members."""
    db = _db(request)
    notice, mine = await _notice_in_scope(db, notice_id, who.caller)
    if state is not None and state not in STATES:
        return _unprocessable("state", f"未知的投递状态 {state}（可选：{'、'.join(STATES)}）")
    if after is not None and CURSOR_SEP not in after:
        return _unprocessable("after", "翻页位置无效：请使用上一页返回的 page.next_after")
    tallies = await queries.tallies(db, notice_id, mine)
    docs = await queries.deliveries_page(db, notice_id, tallies, state,
                                         tuple(after.split(CURSOR_SEP, 1)) if after else None, limit + 1)
    more, docs = len(docs) > limit, docs[:limit]
    paths = await queries.branch_paths(db, {d["branch_id"] for d in docs if d.get("branch_id")})
    names = await queries.member_names(db, [d["member_id"] for d in docs])
    recipients = [who.record(_recipient(d, names.get(d["member_id"])), member_id=d["member_id"],
                             path=paths.get(d.get("branch_id"), []), specialist_id=d.get("specialist_id"))
                  for d in docs]
    return {"notice_id": notice_id, "title": notice["title"], "category": notice["category"],
            "addressed_on": notice.get("addressed_on"), "send_at": notice.get("send_at"),
            "require_ack": notice.get("require_ack", False), "summary": _summary(tallies), "recipients": recipients,
            "page": {"limit": limit, "state": state, "after": after,
                     "next_after": _cursor(docs[-1]) if more else None}}


CURSOR_SEP = "."  # never in an id (shared/contracts/types.py)


def _cursor(d: dict) -> str:
    return f"{d.get('branch_id') or ''}{CURSOR_SEP}{d['member_id']}"


def _summary(tallies: list[dict]) -> dict:
    """Recipients by state, reached (an attempt delivered, or the door task done) and acknowledged:
    the sum of the notice's tallies (one per branch, kept in step with its deliveries by the
    database: adapters/documents.py), not a count over every delivery."""
    summary = {s: 0 for s in STATES} | {"recipients": 0, "reached": 0, "acknowledged": 0}
    for t in tallies:
        for key in ("recipients", "reached", "acknowledged"):
            summary[key] += t.get(key, 0)
        for state, n in (t.get("state") or {}).items():
            summary[state] = summary.get(state, 0) + n
    return summary


def _recipient(d: dict, name: str | None) -> dict:
    ok = next((a for a in d["attempts"] if a["state"] == "delivered"), None)
    door = d.get("door") or None
    if ok:
        delivery = {"reached": True, "channel": ok["channel"], "at": ok["finished_at"], "transport": ok["transport"]}
    elif d["state"] == "door_done":
        delivery = {"reached": True, "channel": door["channel"], "at": door["completed_on"], "transport": "specialist"}
    else:
        delivery = {"reached": False, "channel": None, "at": None, "transport": None}
    return {"member_id": d["member_id"], "name": name, "branch_id": d["branch_id"], "channel": d.get("channel"),
            "plan": d["plan"], "state": d["state"], "held": d.get("held"), "next_at": d.get("next_at"),
            "attempts": d["attempts"], "delivery": delivery, "door": door, "acknowledged": d.get("acknowledged")}


@router.get("/specialists/{specialist_id}/door-deliveries",
            summary="A specialist's pending door deliveries (送学上门) and calls")
async def door_deliveries(specialist_id: str, request: Request, who: Viewer = Depends(viewer),
                          page: int = PAGE, page_size: int = PAGE_SIZE) -> dict:
    db, caller = _db(request), who.caller
    if caller.role == "specialist" and specialist_id != caller.specialist_id:
        raise NotFound("specialist", specialist_id)
    mine = None if caller.role == "specialist" else await _branches_of(db, caller)
    # only the door work in the caller's subtree
    docs, total = await queries.door_work(db, specialist_id, mine, skip(page, page_size), page_size)
    if not total and not await queries.has_members_of_specialist(db, specialist_id, mine):
        raise NotFound("specialist", specialist_id)
    paths = await queries.branch_paths(db, {d["branch_id"] for d in docs if d.get("branch_id")})
    members = await queries.members(db, [d["member_id"] for d in docs])
    titles = await queries.notice_titles(db, {d["notice_id"] for d in docs})
    items = [who.record({"notice_id": d["notice_id"], "title": titles.get(d["notice_id"]), "member_id": d["member_id"],
                         "name": members.get(d["member_id"], {}).get("name"), "branch_id": d["branch_id"],
                         "channel": d["door"]["channel"], "assigned_at": d["door"]["assigned_at"],
                         "addressed_on": d["addressed_on"],
                         "lives_alone": members.get(d["member_id"], {}).get("lives_alone"),
                         "health": members.get(d["member_id"], {}).get("health")},
                        member_id=d["member_id"], path=paths.get(d["branch_id"], []), specialist_id=specialist_id)
             for d in docs]
    return {"specialist_id": specialist_id, "pending": items, **paging(total, page, page_size)}


@router.get("/feedback", summary="Members' feedback (感想建议) in an org's subtree within a period")
async def feedback(request: Request, caller: Caller = Depends(authorized), org_id: str = Query(...),
                   period: str = Query(...), page: int = PAGE, page_size: int = PAGE_SIZE) -> dict:
    try:
        p = parse_period(period)
    except ValueError as exc:
        return _unprocessable("period", str(exc))
    db = _db(request)
    path = await queries.org_path(db, org_id)
    if path is None or not caller.sees(path):
        raise NotFound("organisation", org_id)
    docs, total = await queries.feedback(db, org_id, p.start.isoformat(), p.end.isoformat(),
                                         skip(page, page_size), page_size)
    items = [{"feedback_id": d["_id"], **{k: d[k] for k in ("member_id", "member_name", "branch_id", "notice_id",
                                                             "text", "on")}} for d in docs]
    return {"org_id": org_id, "period": p.text, "feedback": items, **paging(total, page, page_size)}


@router.get("/audience", summary="Preview: who a notice to these orgs and members would reach, and how")
async def audience_preview(request: Request, caller: Caller = Depends(authorized), org_ids: str = Query(""),
                           member_ids: str = Query(""), on: date | None = Query(None),
                           page: int = PAGE, page_size: int = PAGE_SIZE) -> dict:
    """`count` is everyone the notice would reach; `recipients` come a page at a time (a district's
    notice reaches tens of thousands: the count needs them all read, the answer does not)."""
    orgs = [o for o in org_ids.split(",") if o]
    named = [m for m in member_ids.split(",") if m]
    if not orgs and not named:
        return _unprocessable("org_ids", "请至少指定一个组织或一名党员")
    db, day = _db(request), (on or today()).isoformat()
    branches = []
    for org_id in orgs:
        org = await queries.org(db, org_id)
        if org is None or not caller.sees([*org.get("ancestors", []), org_id]):
            raise NotFound("organisation", org_id)
        branches.extend(org["branches"])
    branch_docs = await queries.branches(db, branches)
    ids = sorted({mid for b in branch_docs for mid in b["members"]} | set(named))
    # Read through, one member at a time: everyone is counted, only the page is kept
    start, count, recipients, named_here = skip(page, page_size), 0, [], set()
    named_ids = frozenset(named)
    audience = (named_ids, frozenset(orgs))  # as `Notice.audience_sets`
    async for mb in queries.each_member(db, ids):
        if mb.member_id in named_ids and (caller.whole_district or caller.sees([*mb.ancestors, mb.branch_id or ""])):
            named_here.add(mb.member_id)
        p = mb.standing(day, open_until(day))  # as a notice addressed that day would see them (domain/recipients.py)
        if p is None or not in_audience(p, audience):
            continue
        if start <= count < start + page_size:
            recipients.append({"member_id": p.member_id, "name": mb.name, "branch_id": p.branch_id, "away": p.away,
                               "specialist_id": p.specialist_id, "plan": plan(p.reach())})
        count += 1
    if not caller.whole_district:  # a named member outside the subtree is as unknown as one that is not
        outside = [m for m in named if m not in named_here]
        if outside:
            raise NotFound("member", outside[0])
    return {"on": day, "count": count,
            "branches": [{"branch_id": b["_id"], "secretary_id": b.get("secretary_id")} for b in branch_docs],
            "recipients": recipients, **paging(count, page, page_size)}
