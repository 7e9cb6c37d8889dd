"""HTTP read of 阵地需求 (issue 13, item 8) in reporting: the activities members ask for against what the
venues offer, and the gaps, per community of the subtree. Scoped like every reporting route."""
from datetime import date

from fastapi import APIRouter, Depends, Request

from services.reporting import facility_queries
from services.reporting.entrypoints.routes import AS_OF, _guard, _scoped
from shared.auth.claims import Caller
from shared.auth.http import authorized
from shared.periods import today

router = APIRouter(prefix="/api/v1", tags=["branch records"], dependencies=[Depends(authorized)])


@router.get("/orgs/{org_id}/facility-gaps",
            summary="阵地需求: the activities members ask for (乒乓球、羽毛球、游泳…) per community, the venues "
                    "offering them, and the gaps")
async def facility_gaps(request: Request, org_id: str, caller: Caller = Depends(authorized),
                        as_of: date | None = AS_OF) -> dict:
    db = await _scoped(request, org_id, caller)
    return await _guard(facility_queries.facility_gaps(db, org_id, (as_of or today()).isoformat()))
