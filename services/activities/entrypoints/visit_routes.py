"""HTTP reads of the visit log (走访记录, issue 13): a member's visits and a specialist's.

Scoped like every route: officials and secretaries read the visits of members of their subtree (the
member's branch as activities knows it); a specialist the visits they made; a member their own.
Anything else answers 404.
"""
from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError

from services.activities.adapters import queries
from shared.auth.http import authorized, viewer
from shared.auth.masking import Viewer
from shared.http.errors import NotFound
from shared.periods import parse_period
from shared.rules import labels

router = APIRouter(prefix="/api/v1", tags=["visits"], dependencies=[Depends(authorized)])


def _row(d: dict, names: dict) -> dict:
    return {"visit_id": d["_id"], "member_id": d["member_id"], "member_name": names.get(d["member_id"]),
            "specialist_id": d["specialist_id"], "on": d["on"], "kind": d["kind"],
            "kind_label": labels.VISIT_KINDS.get(d["kind"]), "health": d.get("health"),
            "health_label": labels.HEALTH.get(d.get("health")), "needs": d.get("needs", []), "notes": d.get("notes", "")}


def _span(period: str | None) -> dict:
    if not period:
        return {}
    try:
        p = parse_period(period)
    except ValueError as exc:
        raise RequestValidationError([{"loc": ("query", "period"), "msg": str(exc), "type": "value_error"}]) from None
    return {"on": {"$gte": p.start.isoformat(), "$lte": p.end.isoformat()}}


@router.get("/members/{member_id}/visits", summary="A member's visit log (走访记录), newest first")
async def member_visits(member_id: str, request: Request, who: Viewer = Depends(viewer),
                        period: str | None = Query(None, description="YYYY-MM, YYYY-Qn or YYYY")) -> dict:
    caller = who.caller
    db = request.app.state.runtime.db
    path: list[str] = []
    view = await queries.member_view(db, member_id)
    q = {"member_id": member_id, **_span(period)}
    if caller.role == "specialist":
        q["specialist_id"] = caller.specialist_id  # the visits they made
    elif caller.role == "member":
        if member_id != caller.member_id:
            raise NotFound("member", member_id)
    else:
        branch = (view or {}).get("branch_id")
        path = (await queries.branch_paths(db, [branch]))[branch] if branch else []
        if not caller.sees(path):
            raise NotFound("member", member_id)
    docs = await queries.visits(db, q)
    if not docs and (view is None or caller.role == "specialist"):  # a specialist: members they visited
        raise NotFound("member", member_id)
    names = {member_id: (view or {}).get("name")}
    body = {"member_id": member_id, "name": names[member_id], "visits": [_row(d, names) for d in docs]}
    # health and needs masked as the member's ledger masks them (a specialist: those they found)
    return who.record(body, member_id=member_id, path=path, specialist_id=caller.specialist_id)


@router.get("/specialists/{specialist_id}/visits", summary="A one-to-one specialist's visits (走访记录), newest first")
async def specialist_visits(specialist_id: str, request: Request, who: Viewer = Depends(viewer),
                            period: str | None = Query(None, description="YYYY-MM, YYYY-Qn or YYYY"),
                            limit: int = Query(500, ge=1, le=2000)) -> dict:
    caller = who.caller
    db = request.app.state.runtime.db
    if caller.role == "specialist" and specialist_id != caller.specialist_id:
        raise NotFound("specialist", specialist_id)
    q: dict = {"specialist_id": specialist_id, **_span(period)}
    if caller.role not in ("specialist", "district"):
        if caller.role == "member":
            raise NotFound("specialist", specialist_id)
        branches = await queries.branches_under(db, list(caller.org_ids))
        q["member_id"] = {"$in": await queries.members_of_branches(db, branches)}
    docs = await queries.visits(db, q, limit)
    if not docs:
        raise NotFound("specialist", specialist_id)
    names = await queries.member_names(db, sorted({d["member_id"] for d in docs}))
    places = await queries.member_branches(db, sorted(names))
    paths = await queries.branch_paths(db, sorted({b for b in places.values() if b}))
    rows = [who.record(_row(d, names), member_id=d["member_id"], path=paths.get(places.get(d["member_id"]), []),
                       specialist_id=specialist_id) for d in docs]
    return {"specialist_id": specialist_id, "members": len(names), "visits": rows}
