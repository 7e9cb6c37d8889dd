"""HTTP reads of the reporting service: reports, exports, alerts, candidates, the dashboard."""
from datetime import date
from pathlib import Path

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response

from services.reporting import queries
from services.reporting.adapters import exports
from services.reporting.domain.labels import all_labels
from shared.contracts.codes import AlertKind
from shared.http.errors import NotFound
from shared.periods import Period, parse_period, today

router = APIRouter(prefix="/api/v1", tags=["reports"])
pages = APIRouter(tags=["dashboard"])
STATIC = Path(__file__).resolve().parent / "static"
AS_OF = Query(None, description="fixes 'now' for statuses and alerts (default: today)")


def _period(text: str) -> Period:
    try:
        return parse_period(text)
    except ValueError as exc:
        raise HTTPException(422, {"field": "period", "message": str(exc)}) from exc


async def _db(request: Request):
    """The projections the pointer names: a rebuild switches queries over without a restart."""
    return await request.app.state.runtime.extras["pointer"].db()


async def _guard(coro):
    try:
        return await coro
    except queries.UnknownOrg as exc:
        raise NotFound("organisation", str(exc)) from exc


@router.get("/orgs/{org_id}/report", summary="An organisation's report for a period")
async def report(request: Request, org_id: str,
                 period: str = Query(..., description="YYYY-MM, YYYY-Qn or YYYY", examples=["2026-Q1"]),
                 as_of: date | None = AS_OF) -> dict:
    return await _guard(queries.report(await _db(request), org_id, _period(period), as_of or today()))


@router.get("/orgs/{org_id}/report.xlsx", summary="The report as a spreadsheet: a summary and one sheet per branch")
async def report_xlsx(request: Request, org_id: str, period: str = Query(...), as_of: date | None = AS_OF):
    p, day = _period(period), as_of or today()
    db = await _db(request)
    summary = await _guard(queries.report(db, org_id, p, day))
    branches = await queries.branch_reports(db, org_id, p, day)
    members = await queries.members_of(db, org_id, summary["as_of"])
    body = exports.xlsx(summary, branches, members)
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="report-{org_id}-{p.text}.xlsx"'})


@router.get("/orgs/{org_id}/report.csv", summary="The report as CSV (UTF-8 with BOM), one row per organisation")
async def report_csv(request: Request, org_id: str, period: str = Query(...), as_of: date | None = AS_OF):
    p, day = _period(period), as_of or today()
    db = await _db(request)
    summary = await _guard(queries.report(db, org_id, p, day))
    branches = await queries.branch_reports(db, org_id, p, day)
    return Response(exports.csv_bytes(summary, branches), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="report-{org_id}-{p.text}.csv"'})


@router.get("/orgs/{org_id}/volunteer-hours", summary="An organisation's volunteer hours of a period, by team")
async def volunteer_hours(request: Request, org_id: str, period: str = Query(..., examples=["2026"]),
                          as_of: date | None = AS_OF) -> dict:
    return await _guard(queries.volunteer_hours(await _db(request), org_id, _period(period), as_of or today()))


@router.get("/labels", summary="The Chinese labels of codes and figures (the dashboard's and the exports')")
async def labels() -> dict:
    return all_labels()


@router.get("/alerts", summary="Open alerts in an organisation's subtree as of a day, the worst first")
async def alerts(request: Request, org_id: str = Query(...), as_of: date | None = AS_OF,
                 kind: AlertKind | None = Query(None, description="only alerts of this kind"),
                 branch_id: str | None = Query(None, description="only alerts of this branch of the subtree")) -> dict:
    day = as_of or today()
    items = await _guard(queries.alerts(await _db(request), org_id, day, kind, branch_id))
    return {"org_id": org_id, "as_of": day.isoformat(), "alerts": items}


@router.get("/orgs/{org_id}/candidates", summary="Annual selection: 五好支部 and 四个最美 candidates, ranked")
async def candidates(request: Request, org_id: str, year: int = Query(..., ge=1921, le=2200),
                     as_of: date | None = AS_OF) -> dict:
    return await _guard(queries.candidates(await _db(request), org_id, year, as_of or today()))


@router.get("/orgs", summary="The organisation tree")
async def orgs(request: Request) -> list[dict]:
    return await queries.tree(await _db(request))


@router.get("/orgs/{org_id}/series", summary="Per branch and month figures of a year (for the dashboard)")
async def series(request: Request, org_id: str, year: int = Query(..., ge=1921, le=2200),
                 period: str | None = Query(None, description="the branch table's and heatmap's period "
                                                          "(YYYY-MM, YYYY-Qn or YYYY; default the year)"),
                 as_of: date | None = AS_OF) -> dict:
    p = _period(period) if period else None
    return await _guard(queries.monthly_series(await _db(request), org_id, year, as_of or today(), p))


@router.get("/orgs/{org_id}/members", summary="Members of the subtree registered on a day")
async def members(request: Request, org_id: str, as_of: date | None = AS_OF) -> list[dict]:
    return await _guard(queries.members_of(await _db(request), org_id, (as_of or today()).isoformat()))


@router.get("/members/{member_id}", summary="What reporting knows of one member, and their alerts")
async def member(request: Request, member_id: str, as_of: date | None = AS_OF) -> dict:
    found = await queries.member(await _db(request), member_id, as_of or today())
    if found is None:
        raise NotFound("member", member_id)
    return found


@router.get("/projections", summary="Which projections version queries read, and which this process writes")
async def projections(request: Request) -> dict:
    runtime = request.app.state.runtime
    pointer = runtime.extras["pointer"]
    return {"reading_version": await pointer.version(), "reading_database": (await pointer.db()).name,
            "writing_version": runtime.extras["version"], "writing_database": runtime.db.name}


@pages.get("/", include_in_schema=False)
async def dashboard() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")
