"""HTTP reads of a branch's leadership (issue 13): its committee, terms and elections; its
secretary's training, assessments and allowance; training sessions.

Scoped like every members route: a token and the right `entrypoints/rights.py` gives each route;
a branch outside the caller's subtree answers 404. The secretary's allowance is their pay: its
amounts are masked as `shared.auth.masking` says (category `allowance`), unless unmasked with
`?reveal=allowance&reason=…`.
"""
from datetime import date

from fastapi import APIRouter, Depends, Query, Request

from services.members.adapters import queries
from services.members.adapters.documents import org_from_doc
from services.members.domain.leadership_view import committee_view, member_ids, secretary_on, secretary_view
from shared.auth.claims import Caller
from shared.auth.http import authorized, viewer
from shared.auth.masking import Viewer
from shared.http.errors import NotFound
from shared.periods import today

router = APIRouter(prefix="/api/v1", tags=["leadership"], dependencies=[Depends(authorized)])


async def _branch(request: Request, org_id: str, caller: Caller):
    doc = await queries.org(request.app.state.runtime.db, org_id)
    if doc is None or doc.get("kind") != "branch" or not caller.sees([*doc.get("ancestors", []), org_id]):
        raise NotFound("branch", org_id)
    return org_from_doc(doc)


async def _names(request: Request, ids: set[str]) -> dict[str, str | None]:
    return await queries.names(request.app.state.runtime.db, ids)


@router.get("/orgs/{org_id}/committee", summary="A branch's committee (支委会): line-up, empty posts, term, elections")
async def get_committee(org_id: str, request: Request, caller: Caller = Depends(authorized),
                        as_of: date | None = Query(None, description="the day of the line-up (default today)")) -> dict:
    branch = await _branch(request, org_id, caller)
    return committee_view(branch, day=(as_of or today()).isoformat(), names=await _names(request, member_ids(branch)))


@router.get("/orgs/{org_id}/secretary",
            summary="A branch's secretary: training of the year (培训), assessments (考核), allowance ledger (补助)")
async def get_secretary(org_id: str, request: Request, who: Viewer = Depends(viewer),
                        year: int | None = Query(None, ge=1921, le=2200, description="default: as_of's year"),
                        as_of: date | None = Query(None, description="the day of the view (default today)")) -> dict:
    branch = await _branch(request, org_id, who.caller)
    day = (as_of or today()).isoformat()
    holder = secretary_on(branch, day)
    trainings = await queries.secretary_trainings(request.app.state.runtime.db, holder) if holder else []
    view = secretary_view(branch, year=year or int(day[:4]), day=day, names=await _names(request, member_ids(branch)),
                          trainings=trainings)
    # Only the allowance is the secretary's personal data here (the trainings' fields are a session's)
    view["allowance"] = who.record({"allowance": view["allowance"]}, member_id=None, path=branch.path,
                                   specialist_id=None)["allowance"]
    return view


@router.get("/trainings/{session_id}", summary="A training session (培训) and who attended it")
async def get_training(session_id: str, request: Request, caller: Caller = Depends(authorized)) -> dict:
    db = request.app.state.runtime.db
    session = await queries.training(db, session_id)
    if session is None:
        raise NotFound("training session", session_id)
    docs = await queries.attendees(db, session["attendee_ids"])
    seen = {d["_id"]: d for d in docs if caller.sees(d.get("org_path", []))}  # the caller's subtree only
    organiser = await queries.org_path_of(db, session.get("org_id"))
    held_here = organiser is not None and caller.sees(organiser)
    if not seen and not held_here:  # nothing of it is the caller's: as if it did not exist
        raise NotFound("training session", session_id)
    session["session_id"] = session.pop("_id")
    session["attendees"] = [{"member_id": i, "name": seen[i].get("name"), "branch_id": seen[i].get("branch_id")}
                            for i in session.pop("attendee_ids") if i in seen]
    return session
