"""HTTP reads of volunteer service teams (issue 13): a team's roster and leader.

Scoped like every activities route: a team is the caller's when the community it serves lies in
the caller's subtree, or the caller's branch in that community (a secretary sees the teams serving
their community); otherwise 404. Hours by team, person and period are reporting's
(`GET /api/v1/orgs/{id}/volunteer-teams`).
"""
from datetime import date

from fastapi import APIRouter, Depends, Query, Request

from services.activities.adapters import queries
from services.activities.domain.teams import members_on
from shared.auth.claims import Caller
from shared.auth.http import authorized
from shared.http.errors import NotFound
from shared.periods import today

router = APIRouter(prefix="/api/v1", tags=["volunteer teams"], dependencies=[Depends(authorized)])


async def _serves(db, caller: Caller, community_id: str) -> bool:
    """The team's community lies in the caller's subtree, or the caller's branch lies in that community."""
    if caller.sees(await queries.org_path(db, community_id)):
        return True
    paths = await queries.branch_paths(db, list(caller.org_ids)) if caller.org_ids else {}
    return any(community_id in p for p in paths.values())


@router.get("/volunteer-teams/{team_id}", summary="A volunteer service team (志愿服务队): roster and leader")
async def get_team(team_id: str, request: Request, caller: Caller = Depends(authorized),
                   as_of: date | None = Query(None, description="the day of the roster (default today)")) -> dict:
    db = request.app.state.runtime.db
    t = await queries.team(db, team_id)
    if t is None or not await _serves(db, caller, t.community_id):
        raise NotFound("volunteer team", team_id)
    day = (as_of or today()).isoformat()
    memberships = await queries.team_memberships(db, team_id)
    names = await queries.member_names(db, sorted({m.member_id for m in memberships}))
    leader = t.leader_on(day)
    # Every span, in the order they began (then by member): who joined when, and left when.
    roster = sorted(({"member_id": m.member_id, **s} for m in memberships for s in m.spans),
                    key=lambda s: (s["from"], s["member_id"]))
    return {"team_id": t.team_id, "name": t.name, "community_id": t.community_id, "formed_on": t.formed_on,
            "as_of": day, "leader": {"member_id": leader, "name": names.get(leader)} if leader else None,
            "members": [{"member_id": m, "name": names.get(m), "leader": m == leader}
                        for m in members_on(memberships, day)],
            "roster": [s | {"name": names.get(s["member_id"])} for s in roster],
            "leaders": t.leaders}
