"""HTTP queries of the notifications service: the proof of delivery, door work, feedback.

Every route needs a token and the right `entrypoints/rights.py` gives it. A caller below the
district sees a notice when it reached (or is addressed to) someone in their subtree, and then
only those recipients; a specialist sees only their own door work. What lies outside answers
404; members' health is masked as `shared.auth.masking` says. Every list is bounded: a notice's
recipients by a cursor (`limit` ≤ 2,000), door work, feedback and an audience's recipients by page
(`page`, `page_size` ≤ 500: `shared.http.paging`).
"""
import asyncio
from datetime import date

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from services.notifications.adapters.documents import (
    DELIVERIES, FEEDBACK, MEMBERS, NOTICE_TALLIES, NOTICES, ORGS, TALLY_KEYS, member_from_doc,
)
from services.notifications.domain.channels import plan
from services.notifications.domain.recipients import in_audience, open_until
from shared.auth.claims import Caller
from shared.auth.http import authorized, viewer
from shared.auth.masking import Viewer
from shared.http.errors import NotFound, unprocessable
from shared.http.paging import PAGE, PAGE_SIZE, paging, skip
from shared.messaging.tally import merged
from shared.messaging.unit_of_work import VERSION
from shared.periods import parse_period, today

router = APIRouter(prefix="/api/v1", tags=["notices"], dependencies=[Depends(authorized)])
STATES = ("pending", "sending", "delivered", "door_assigned", "door_done", "exhausted", "unreachable", "acknowledged")


def _db(request: Request):
    return request.app.state.runtime.db


def _unprocessable(field: str, message: str) -> JSONResponse:
    return unprocessable([{"field": field, "message": message}])  # said in Chinese, as every service does


async def org_path(db, org_id: str) -> list[str] | None:
    """An established organisation's path (district … itself); None when it is not known (or only
    as the place of a member so far). Also places commands (command_scope.py)."""
    org = await db[ORGS].find_one({"_id": org_id}, {"kind": 1, "ancestors": 1})
    if org is None or org.get("kind") is None:
        return None
    return [*org.get("ancestors", []), org_id]


async def _branches_of(db, caller: Caller) -> set[str] | None:
    """The branches of the caller's subtree; None for the whole district."""
    if caller.whole_district:
        return None
    roots = list(caller.org_ids)
    return {o["_id"] async for o in db[ORGS].find(
        {"kind": "branch", "$or": [{"_id": {"$in": roots}}, {"ancestors": {"$in": roots}}]}, {"_id": 1})}


async def _branch_paths(db, branch_ids: set[str]) -> dict[str, list[str]]:
    known = {o["_id"]: [*o.get("ancestors", []), o["_id"]]
             async for o in db[ORGS].find({"_id": {"$in": list(branch_ids)}}, {"ancestors": 1})}
    return {b: known.get(b, [b]) for b in branch_ids}


async def _notice_in_scope(db, notice_id: str, caller: Caller) -> tuple[dict, set[str] | None]:
    """The notice and the caller's branches, or 404 when nothing of it reached the caller's subtree."""
    notice = await db[NOTICES].find_one({"_id": notice_id})
    if notice is None:
        raise NotFound("notice", notice_id)
    mine = await _branches_of(db, caller)
    if mine is None:
        return notice, None
    audience = notice.get("audience") or {}
    if await db[DELIVERIES].find_one({"notice_id": notice_id, "branch_id": {"$in": list(mine)}}, {"_id": 1}):
        return notice, mine
    for org_id in audience.get("org_ids", []):
        path = await org_path(db, org_id)
        if path and caller.sees(path):
            return notice, mine
    if await db[MEMBERS].find_one({"_id": {"$in": audience.get("member_ids", [])}, "branch_id": {"$in": list(mine)}},
                                  {"_id": 1}):
        return notice, mine
    raise NotFound("notice", notice_id)


@router.get("/notices/{notice_id}", summary="One notice")
async def get_notice(notice_id: str, request: Request, caller: Caller = Depends(authorized)) -> dict:
    db = _db(request)
    doc, mine = await _notice_in_scope(db, notice_id, caller)
    if mine is not None and "recipients" in doc:  # only the recipients of the caller's subtree
        ours = {d["member_id"] async for d in db[DELIVERIES].find(
            {"notice_id": notice_id, "branch_id": {"$in": list(mine)}}, {"member_id": 1})}
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
    tallies = await _tallies(db, notice_id, mine)
    docs = await _page(db, notice_id, tallies, state, after, limit + 1)
    more, docs = len(docs) > limit, docs[:limit]
    paths = await _branch_paths(db, {d["branch_id"] for d in docs if d.get("branch_id")})
    names = {m["_id"]: m.get("name") async for m in db[MEMBERS].find({"_id": {"$in": [d["member_id"] for d in docs]}},
                                                                       {"name": 1})}
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


async def _tallies(db, notice_id: str, mine: set[str] | None) -> list[dict]:
    """The notice's tallies (one per branch) in the caller's subtree, by branch."""
    query: dict = {"notice_id": notice_id}
    if mine is not None:
        query["branch_id"] = {"$in": list(mine)}
    docs = await db[NOTICE_TALLIES].find(query).to_list(None)
    return sorted(merged(docs, TALLY_KEYS), key=lambda t: t.get("branch_id") or "")  # a branch's shards summed


async def _page(db, notice_id: str, tallies: list[dict], state: str | None, after: str | None, n: int) -> list[dict]:
    """Up to n deliveries after the cursor, in (branch, member) order: one query per branch (an
    equality on the index's prefix), for the branches that the tallies say hold the next n. A
    query's index range stays that of one branch: SecantusDB reads the whole range a query's bounds
    allow before it applies the limit, and plans `$in` over branches badly (docs/secantusdb.md);
    on MongoDB the same queries cost the same."""
    after_branch, after_member = after.split(CURSOR_SEP, 1) if after else (None, None)
    match: dict = {"notice_id": notice_id, **({"state": state} if state else {})}
    wanted: list[tuple[str | None, str | None]] = []  # (branch, after this member)
    counted = 0
    for t in tallies:
        branch = t.get("branch_id") or ""
        if after is not None and branch < after_branch:
            continue
        count = (t.get("state") or {}).get(state, 0) if state else t.get("recipients", 0)
        if count > 0:
            rest_of_last = after is not None and branch == after_branch
            wanted.append((t.get("branch_id"), after_member if rest_of_last else None))
            counted += 0 if rest_of_last else count  # how much of it is left is not known
        if counted >= n:
            break

    async def of_branch(branch: str | None, after_member: str | None) -> list[dict]:
        query = {**match, "branch_id": branch, **({"member_id": {"$gt": after_member}} if after_member else {})}
        return await db[DELIVERIES].find(query).sort("member_id", 1).limit(n).to_list(None)

    out: list[dict] = []
    for part in await asyncio.gather(*(of_branch(b, m) for b, m in wanted)):
        out += part
    return out[:n]


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
    query: dict = {"specialist_id": specialist_id, "state": "door_assigned"}
    members_query: dict = {"specialist_id": specialist_id}
    if mine is not None:  # only the door work in the caller's subtree
        query["branch_id"] = members_query["branch_id"] = {"$in": list(mine)}
    total = await db[DELIVERIES].count_documents(query)
    docs = await (db[DELIVERIES].find(query).sort([("door.assigned_at", 1), ("_id", 1)])
                  .skip(skip(page, page_size)).limit(page_size).to_list(None))
    if not total and await db[MEMBERS].find_one(members_query, {"_id": 1}) is None:
        raise NotFound("specialist", specialist_id)
    paths = await _branch_paths(db, {d["branch_id"] for d in docs if d.get("branch_id")})
    members = {m["_id"]: m async for m in db[MEMBERS].find({"_id": {"$in": [d["member_id"] for d in docs]}})}
    titles = {n["_id"]: n["title"] async for n in db[NOTICES].find({"_id": {"$in": list({d["notice_id"] for d in docs})}},
                                                                  {"title": 1})}
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
    path = await org_path(db, org_id)
    if path is None or not caller.sees(path):
        raise NotFound("organisation", org_id)
    query = {"ancestors": org_id, "on": {"$gte": p.start.isoformat(), "$lte": p.end.isoformat()}}
    total = await db[FEEDBACK].count_documents(query)
    docs = await (db[FEEDBACK].find(query).sort([("on", 1), ("_id", 1)])
                  .skip(skip(page, page_size)).limit(page_size).to_list(None))
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
        org = await db[ORGS].find_one({"_id": org_id})
        if org is None or org.get("kind") is None or not caller.sees([*org.get("ancestors", []), org_id]):
            raise NotFound("organisation", org_id)
        branches.extend(org["branches"])
    branch_docs = await db[ORGS].find({"_id": {"$in": branches}}).to_list(None)
    ids = sorted({mid for b in branch_docs for mid in b["members"]} | set(named))
    found = [member_from_doc(m) async for m in db[MEMBERS].find({"_id": {"$in": ids}}).sort("_id", 1)]
    if not caller.whole_district:  # a named member outside the subtree is as unknown as one that is not
        mine = {m.member_id for m in found if caller.sees([*m.ancestors, m.branch_id or ""])}
        outside = [m for m in named if m not in mine]
        if outside:
            raise NotFound("member", outside[0])
    # as a notice addressed that day would see them (domain/recipients.py)
    people = [s for s in (mb.standing(day, open_until(day)) for mb in found)
              if s is not None and in_audience(s, {"org_ids": orgs, "member_ids": named})]
    names = {mb.member_id: mb.name for mb in found}
    start = skip(page, page_size)
    return {"on": day, "count": len(people),
            "branches": [{"branch_id": b["_id"], "secretary_id": b.get("secretary_id")} for b in branch_docs],
            "recipients": [{"member_id": p.member_id, "name": names[p.member_id], "branch_id": p.branch_id,
                            "away": p.away, "specialist_id": p.specialist_id, "plan": plan(p.reach())}
                           for p in people[start:start + page_size]],
            **paging(len(people), page, page_size)}
