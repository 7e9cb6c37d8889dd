"""HTTP reads of issue 13's branch records in reporting: a branch's funds (经费), the yearly grades
(星级类别, 晋位升级), remote study (红色X, 学习强国) and 送学上门, the way into the Party (入党积极分子).

Scoped like every reporting route: a token, the right `entrypoints/rights.py` gives each route, and
an organisation outside the caller's subtree answers 404.
"""
from datetime import date

from fastapi import APIRouter, Depends, Query, Request

from services.reporting import activists_queries, funds_queries, grades_queries, queries, study_queries
from services.reporting.entrypoints.routes import AS_OF, _guard, _masked_rows, _period, _scoped
from shared.auth.claims import Caller
from shared.auth.http import authorized, viewer
from shared.auth.masking import Viewer
from shared.periods import today

router = APIRouter(prefix="/api/v1", tags=["branch records"], dependencies=[Depends(authorized)])


@router.get("/orgs/{org_id}/funds", summary="A branch's funds (返缴党费、活动经费): received, spent, balance, cost per activity")
async def funds(request: Request, org_id: str, caller: Caller = Depends(authorized),
                period: str = Query(..., description="YYYY-MM, YYYY-Qn or YYYY", examples=["2026"]),
                as_of: date | None = AS_OF) -> dict:
    db, org, p, day = await _org_in_period(request, org_id, caller, period, as_of)
    return await funds_queries.funds(db, org, p, day)


@router.get("/orgs/{org_id}/grades", summary="星级类别 and 晋位升级: each branch's grade of a year and its move, "
                                             "beside the recommendation")
async def grades(request: Request, org_id: str, caller: Caller = Depends(authorized),
                 year: int = Query(..., ge=1921, le=2200), as_of: date | None = AS_OF) -> dict:
    db = await _scoped(request, org_id, caller)
    reports = await _guard(queries.branch_reports(db, org_id, _period(str(year)), as_of or today()))
    return {"org_id": org_id, **await grades_queries.grades_beside(db, reports, year)}


@router.get("/orgs/{org_id}/study", summary="Remote study (红色X、学习强国): coverage and use per branch, "
                                            "attendance in person / remote / home delivery")
async def study(request: Request, org_id: str, caller: Caller = Depends(authorized),
                period: str = Query(..., examples=["2026"]), as_of: date | None = AS_OF) -> dict:
    db, org, p, day = await _org_in_period(request, org_id, caller, period, as_of)
    return await study_queries.study(db, org, p, day)


@router.get("/orgs/{org_id}/study/home-delivery",
            summary="送学上门: the members with no account on either platform, and whether a home delivery reached them")
async def home_delivery(request: Request, org_id: str, who: Viewer = Depends(viewer),
                        period: str = Query(..., examples=["2026"]), as_of: date | None = AS_OF) -> dict:
    db, org, p, day = await _org_in_period(request, org_id, who.caller, period, as_of)
    out = await study_queries.home_delivery(db, org, p, day)
    return out | {"members": await _masked_rows(db, who, out["members"])}


@router.get("/orgs/{org_id}/activists", summary="入党申请人、积极分子、发展对象、预备党员: the pipeline per branch, "
                                                "and for a branch its people with their responsible members")
async def activists(request: Request, org_id: str, caller: Caller = Depends(authorized),
                    period: str = Query(..., examples=["2026"]), as_of: date | None = AS_OF) -> dict:
    db, org, p, day = await _org_in_period(request, org_id, caller, period, as_of)
    return await activists_queries.pipeline(db, org, p, day)


async def _org_in_period(request: Request, org_id: str, caller: Caller, period: str, as_of: date | None):
    """What every branch-records route starts with: the period checked, the organisation in the
    caller's scope (404 outside), and the reading day."""
    p = _period(period)
    db = await _scoped(request, org_id, caller)
    org = await _guard(queries.org(db, org_id))
    return db, org, p, (as_of or today()).isoformat()
