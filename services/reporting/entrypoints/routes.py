"""HTTP reads of the reporting service: reports, exports, alerts, candidates, the dashboard.

Every route but the dashboard's page needs a token and the right `entrypoints/rights.py` gives it;
an organisation outside the caller's subtree answers 404 (its existence does not leak), the tree
holds only the caller's subtree, and member rows are masked as `shared.auth.masking` says, and
so are a report's sums that are one person's money (`domain/disclosure.py`). The members list is
paginated (`shared.http.paging`); the xlsx lists at most `exports.MAX_MEMBER_ROWS` members.
"""
from datetime import date
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response

from services.reporting import queries
from services.reporting.adapters import exports, org_tree
from services.reporting.domain import alert_list
from services.reporting.domain.disclosure import masked_report, masked_series_row
from services.reporting.domain.labels import all_labels
from shared.auth.claims import Caller
from shared.auth.http import authorized, viewer
from shared.auth.masking import Viewer
from shared.contracts.codes import AlertKind
from shared.http.errors import NotFound
from shared.http.paging import PAGE, PAGE_SIZE, paging, skip
from shared.periods import Period, parse_period, today

router = APIRouter(prefix="/api/v1", tags=["reports"], dependencies=[Depends(authorized)])
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


async def _scoped(request: Request, org_id: str, caller: Caller):
    """The projections to read, once the organisation is known to lie in the caller's subtree."""
    db = await _db(request)
    if not caller.whole_district:
        path = await org_tree.path(db, org_id)
        if path is None or not caller.sees(path):
            raise NotFound("organisation", org_id)
    return db


async def _masked_rows(db, who: Viewer, rows: list[dict]) -> list[dict]:
    """Member rows (with `branch_id`, `specialist_id`) as the viewer may see them."""
    paths = await org_tree.paths(db, (r["branch_id"] for r in rows))
    return [who.record(r, member_id=r["member_id"], path=paths[r["branch_id"]], specialist_id=r.get("specialist_id"))
            for r in rows]


async def _masked_reports(db, who: Viewer, reports: list[dict]) -> list[dict]:
    """Reports (each with its `org_id`) with the sums that are one person's money masked."""
    paths = await org_tree.paths(db, (r["org_id"] for r in reports))
    return [masked_report(r, who.hidden(member_id=None, path=paths[r["org_id"]], specialist_id=None)) for r in reports]


@router.get("/orgs/{org_id}/report", summary="An organisation's report for a period")
async def report(request: Request, org_id: str, who: Viewer = Depends(viewer),
                 period: str = Query(..., description="YYYY-MM, YYYY-Qn or YYYY", examples=["2026-Q1"]),
                 as_of: date | None = AS_OF) -> dict:
    db = await _scoped(request, org_id, who.caller)
    found = await _guard(queries.report(db, org_id, _period(period), as_of or today(), asked=True))
    return (await _masked_reports(db, who, [found]))[0]


@router.get("/orgs/{org_id}/report.xlsx", summary="The report as a spreadsheet: a summary and one sheet per branch")
async def report_xlsx(request: Request, org_id: str, who: Viewer = Depends(viewer), period: str = Query(...),
                      as_of: date | None = AS_OF):
    p, day = _period(period), as_of or today()
    db = await _scoped(request, org_id, who.caller)
    summary, *branches = await _masked_reports(db, who, [await _guard(queries.report(db, org_id, p, day, asked=True)),
                                                         *await queries.branch_reports(db, org_id, p, day)])
    # the rows of the members the workbook lists; the others are only counted (exports.listed_branches)
    members = await _masked_rows(db, who, await queries.members_of(
        db, org_id, summary["as_of"], listed=lambda placed: exports.listed_branches(branches, placed)))
    body = exports.xlsx(summary, branches, members)
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="report-{org_id}-{p.text}.xlsx"'})


@router.get("/orgs/{org_id}/report.csv", summary="The report as CSV (UTF-8 with BOM), one row per organisation")
async def report_csv(request: Request, org_id: str, who: Viewer = Depends(viewer), period: str = Query(...),
                     as_of: date | None = AS_OF):
    p, day = _period(period), as_of or today()
    db = await _scoped(request, org_id, who.caller)
    summary, *branches = await _masked_reports(db, who, [await _guard(queries.report(db, org_id, p, day, asked=True)),
                                                         *await queries.branch_reports(db, org_id, p, day)])
    return Response(exports.csv_bytes(summary, branches), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="report-{org_id}-{p.text}.csv"'})


@router.get("/orgs/{org_id}/volunteer-hours", summary="An organisation's volunteer hours of a period, by team")
async def volunteer_hours(request: Request, org_id: str, caller: Caller = Depends(authorized),
                          period: str = Query(..., examples=["2026"]), as_of: date | None = AS_OF) -> dict:
    return await _guard(queries.volunteer_hours(await _scoped(request, org_id, caller), org_id, _period(period),
                                                as_of or today()))


@router.get("/orgs/{org_id}/volunteer-teams",
            summary="Volunteer service teams (志愿服务队) serving the subtree: roster, leader, hours by person and month")
async def volunteer_teams(request: Request, org_id: str, caller: Caller = Depends(authorized),
                          period: str = Query(..., examples=["2026"]), as_of: date | None = AS_OF) -> dict:
    from services.reporting import team_queries  # issue 13

    return await _guard(team_queries.volunteer_teams(await _scoped(request, org_id, caller), org_id, _period(period),
                                                     as_of or today()))


@router.get("/orgs/{org_id}/service-requests",
            summary="Service requests and difficulties (服务需求与困难帮扶) of the subtree, newest first")
async def service_requests(request: Request, org_id: str, who: Viewer = Depends(viewer),
                           status: str | None = Query(None, pattern="^(open|overdue|resolved|unresolved)$",
                                                      description="on the day as_of (unresolved: open or overdue)"),
                           period: str | None = Query(None, description="opened within it"),
                           as_of: date | None = AS_OF) -> dict:
    from services.reporting import service_queries  # issue 13

    db = await _scoped(request, org_id, who.caller)
    o = await _guard(queries.org(db, org_id))
    out = await service_queries.listing(db, await org_tree.branches_under(db, o), (as_of or today()).isoformat(),
                                        status, _period(period) if period else None)
    return {"org_id": org_id, **out, "items": await _masked_rows(db, who, out["items"])}


@router.get("/labels", summary="The Chinese labels of codes and figures (the dashboard's and the exports')")
async def labels() -> dict:
    return all_labels()


@router.get("/alerts", summary="Open alerts in an organisation's subtree as of a day, the worst first")
async def alerts(request: Request, who: Viewer = Depends(viewer), org_id: str = Query(...),
                 as_of: date | None = AS_OF,
                 kind: AlertKind | None = Query(None, description="only alerts of this kind"),
                 branch_id: str | None = Query(None, description="only alerts of this branch of the subtree"),
                 limit: int | None = Query(None, ge=1, le=5_000, description="only the worst this many (default all)")
                 ) -> dict:
    """`total` and `by_level` count every alert listed or not: a district of 100,000 members has
    more than a person reads, and the dashboard asks for the worst 200."""
    day = as_of or today()
    db = await _scoped(request, org_id, who.caller)
    items = await _guard(queries.alerts(db, org_id, day, kind, branch_id))
    shown = items if limit is None else items[:limit]
    return {"org_id": org_id, "as_of": day.isoformat(), "total": len(items),
            "by_level": alert_list.by_level(items),
            "alerts": await _masked_details(db, who, shown)}


async def _masked_details(db, who: Viewer, items: list[dict]) -> list[dict]:
    """The details of alerts about a member's record (an overdue service request's `description`,
    issue 13) as the viewer may see that member's data."""
    paths: dict[str, list[str]] = {}
    for x in items:
        d = x.get("details") or {}
        if d.get("member_id"):
            if x["org_id"] not in paths:
                paths[x["org_id"]] = await org_tree.path(db, x["org_id"]) or [x["org_id"]]
            x["details"] = who.record(d, member_id=d["member_id"], path=paths[x["org_id"]], specialist_id=None)
    return items


@router.get("/orgs/{org_id}/candidates", summary="Annual selection: 五好支部 and 四个最美 candidates, ranked")
async def candidates(request: Request, org_id: str, caller: Caller = Depends(authorized),
                     year: int = Query(..., ge=1921, le=2200), as_of: date | None = AS_OF) -> dict:
    return await _guard(queries.candidates(await _scoped(request, org_id, caller), org_id, year, as_of or today()))


@router.get("/orgs", summary="The organisation tree")
async def orgs(request: Request, caller: Caller = Depends(authorized)) -> list[dict]:
    db = await _db(request)
    tree = await queries.tree(db)
    if caller.whole_district:
        return tree
    mine = await org_tree.subtree_ids(db, list(caller.org_ids))
    return [o for o in tree if o["org_id"] in mine]


@router.get("/orgs/{org_id}/series", summary="Per branch (or organisation below) and month figures of a year (for the dashboard)")
async def series(request: Request, org_id: str, who: Viewer = Depends(viewer),
                 year: int = Query(..., ge=1921, le=2200),
                 period: str | None = Query(None, description="the branch table's and heatmap's period "
                                                          "(YYYY-MM, YYYY-Qn or YYYY; default the year)"),
                 rows: Literal["branches", "children"] = Query(
                     "branches", description="a row per branch of the subtree (`branches`), or per organisation "
                                             "directly below (`children`: a large district's subdistricts)"),
                 as_of: date | None = AS_OF) -> dict:
    p = _period(period) if period else None
    db = await _scoped(request, org_id, who.caller)
    query = queries.children_series if rows == "children" else queries.monthly_series
    found = await _guard(query(db, org_id, year, as_of or today(), p))
    key = "children" if rows == "children" else "branches"
    paths = await org_tree.paths(db, (row["org_id"] for row in found[key]))
    return {**found, key: [masked_series_row(row, who.hidden(member_id=None, path=paths[row["org_id"]],
                                                               specialist_id=None))
                           for row in found[key]]}


@router.get("/orgs/{org_id}/members", summary="Members of the subtree registered on a day (paginated)")
async def members(request: Request, org_id: str, who: Viewer = Depends(viewer), as_of: date | None = AS_OF,
                  page: int = PAGE, page_size: int = PAGE_SIZE) -> dict:
    db = await _scoped(request, org_id, who.caller)
    day = (as_of or today()).isoformat()
    rows, total = await _guard(queries.members_page(db, org_id, day, skip(page, page_size), page_size))
    return {"items": await _masked_rows(db, who, rows), **paging(total, page, page_size), "as_of": day}


@router.get("/members/{member_id}", summary="What reporting knows of one member, and their alerts")
async def member(request: Request, member_id: str, who: Viewer = Depends(viewer), as_of: date | None = AS_OF) -> dict:
    db = await _db(request)
    path, specialist_id = await queries.member_place(db, member_id)
    found = await queries.member(db, member_id, as_of or today())
    if found is None or not who.caller.sees_member(member_id=member_id, path=path, specialist_id=specialist_id):
        raise NotFound("member", member_id)
    return who.record(found, member_id=member_id, path=path, specialist_id=specialist_id)


@router.get("/projections", summary="Which projections version queries read, and which this process writes")
async def projections(request: Request) -> dict:  # operators' (no personal data)
    runtime = request.app.state.runtime
    pointer = runtime.extras["pointer"]
    return {"reading_version": await pointer.version(), "reading_database": (await pointer.db()).name,
            "writing_version": runtime.extras["version"], "writing_database": runtime.db.name}


@pages.get("/", include_in_schema=False)
async def dashboard() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")
