"""What a newcomer should look at after `make demo`: the dashboard, and the district's story in figures."""
import asyncio
import sys
import time

import httpx

from shared.auth.local import auth_headers
from simulator.backlog import Backlog

# Branches named in one of the guide's lists: a 100,000-member district has 2,223, all of them in
# the summary file the demo writes.
SHOWN = 8


def listed(items: list[str], sep: str = "、") -> str:
    """At most SHOWN items, then how many more; 无 when there are none."""
    if not items:
        return "无"
    more = len(items) - SHOWN
    return sep.join(items[:SHOWN]) + (f"{sep}…另有 {more} 个 ({more} more in the summary file)" if more > 0 else "")


def where_to_look(report: dict, dashboard: str) -> str:
    """A short guide, in Chinese with English, built from the simulator's summary."""
    s = report["summary"]
    m, dues, notices = s["members"], s["dues"], s["notices"]
    y, district = s["year"], s["district_id"]
    gaps = {"no_secretary": "没有支部书记 (no secretary)", "too_small": "党员不足3人 (too small: 化并转)",
            "skips_committee": "支委会会议不按月开 (skips committee meetings)"}
    lines = [
        "",
        f"夕阳红 Sunset Red — X区 {y}年 模拟数据已送达 (seed {s['seed']}, {s['commands']['total']} commands)",
        "",
        f"  看板 Dashboard:   {dashboard}?org={district}&year={y}&period={y}&as_of={y}-12-31",
        f"  区报告 Report:    {dashboard.rstrip('/')}/api/v1/orgs/{district}/report?period={y}",
        f"  一月 January:     {dashboard.rstrip('/')}/api/v1/orgs/{district}/report?period={y}-01",
        f"  预警 Alerts:      {dashboard.rstrip('/')}/api/v1/alerts?org_id={district}&as_of={y}-12-31",
        "",
        "What to look at (choose the period " + str(y) + "):",
        f"  • 党员 members: {m['registered_end_of_year']} registered at the year's end in {s['orgs']['branches']} branches "
        f"({m['joined_this_year']} joined, {m['died']} died, {m['transferred_out']} moved away during the year).",
        f"  • 候鸟 winter in Sanya: {m['away_end_of_january']} members away at the end of January — "
        f"participation over resident members tells them apart from non-participants.",
        f"  • 党费 dues: {dues['member_months_paid']} of {dues['member_months_due']} member-months paid, "
        f"{dues['amount_paid']} yuan; {dues['members_in_arrears_at_year_end']} members in arrears (3 months: warning, 6: alert).",
        f"  • 通知 notices: {notices['sent']} district notices, {notices['acknowledged']} acknowledgements, "
        f"{notices['door_deliveries']} delivered by a specialist (送学上门), {notices['feedback']} feedback; "
        f"需回执通知 {notices['pairs_sent']} 人次, 已回执 {notices['pairs_acknowledged']} (the report's notices).",
        f"  • 独居/无手机: {m['live_alone']} live alone (visited twice a month), {m['without_phone']} have no phone.",
        "  • 支部短板 the report's gaps:",
    ]
    with_gaps = list(s["branches_with_gaps"].items())
    for branch, kinds in with_gaps[:SHOWN]:
        lines.append(f"      {branch}: {', '.join(gaps.get(k, k) for k in kinds)}")
    if len(with_gaps) > SHOWN:
        lines.append(f"      …另有 {len(with_gaps) - SHOWN} 个支部 ({len(with_gaps) - SHOWN} more branches in the summary file)")
    lead = s.get("leadership")
    if lead:
        posts = {"secretary": "书记", "organization_member": "组织委员", "propaganda_member": "宣传委员",
                 "discipline_member": "纪检委员"}
        vacant = listed([f"{b} {'、'.join(posts.get(p, p) for p in ps)}"
                         for b, ps in lead["posts_vacant_at_year_end"].items()], "; ")
        lines.append(f"  • 支委会 committees: {lead['committees_elected']} branches elected theirs, "
                     f"{lead['elections_in_year']} election(s) this year; 换届逾期 terms overdue: "
                     f"{listed(lead['terms_overdue_at_year_end'])}; 职务空缺 empty posts: {vacant} "
                     "(the branch's line-up: members service, GET /api/v1/orgs/<branch>/committee).")
        lines.append(f"  • 书记培训 training: {lead['training_sessions']} district sessions, "
                     f"{lead['secretaries_trained']} secretaries trained; not trained this year: "
                     f"{listed(lead['secretaries_untrained'])} (alert from October).")
        unpaid = listed([f"{b} {a}" for b, a in lead["allowance_unpaid"].items()], "; ")
        lines.append(f"  • 书记补助 allowance: {lead['allowance_due']} yuan due in the year, paid by the quarter; "
                     f"unpaid at the year's end: {unpaid}. 书记考核: every secretary assessed in January (the year "
                     "before) and December (GET :8001/api/v1/orgs/<branch>/secretary).")
    records = s.get("branch_records")
    if records:
        lines += branch_records_lines(records)
    lines.append("  • 志愿服务 volunteer hours: " + ", ".join(f"{t} {h}" for t, h in s["volunteer_hours"].items()))
    if s.get("service_requests"):
        r = s["service_requests"]
        lines.append(f"  • 便民服务与困难帮扶 requests: {r['opened']} opened ({r['from_visits']} from visits' needs, "
                     f"{r['difficulties']} difficulties), {r['resolved']} resolved; open at the year's end "
                     f"{r['open_at_year_end']}, of which overdue {r['overdue_at_year_end']} (alert 服务需求逾期未办结; "
                     "dashboard: 便民服务与困难帮扶; GET :8004/api/v1/orgs/<org>/service-requests?status=unresolved)")
    if s.get("volunteer_teams"):
        lines.append("  • 志愿服务队 teams: " + "; ".join(
            f"{t}（{x['community']}，队长 {x['leader']}，队员 {x['roster_at_year_end']} 人）"
            for t, x in s["volunteer_teams"].items()) + " (dashboard: 志愿服务队; GET :8004/api/v1/orgs/<org>/volunteer-teams)")
    lines.append(f"  • 预警 alerts open on {y}-12-31: " + ", ".join(f"{k} {n}" for k, n in s["alerts_at_year_end"].items()))
    return "\n".join(lines)


async def reports_caught_up(reporting_url: str, report: dict, timeout: float,
                            backlog: Backlog | None = None) -> bool:
    """Until reporting shows the district's year as intended: it reads the services' events after
    them, and a year's worth takes a while, so `make demo` waits and says how far it has got, and
    how far reporting is behind and at what pace (`backlog`, kept for the caller)."""
    backlog = Backlog() if backlog is None else backlog
    y = report["summary"]["year"]
    want = next(e for e in report["expectations"] if e["kind"] == "district" and e["period"] == str(y))
    keys = ["members.registered", "members.deceased", "dues.member_months_paid", "participation.active"]
    deadline = time.monotonic() + timeout
    said = 0.0
    # Signed in as the district official `make up` wrote a token for (or SUNSET_TOKEN).
    async with httpx.AsyncClient(base_url=reporting_url, timeout=10, headers=auth_headers()) as http:
        while time.monotonic() < deadline:
            try:
                r = await http.get(f"/api/v1/orgs/{want['org_id']}/report", params={"period": want["period"]})
                if r.status_code == 200:
                    got = {k: _figure(r.json(), k) for k in keys}
                    if all(got[k] == want["figures"][k] for k in keys):
                        return True
                    if time.monotonic() - said > 15:
                        said = time.monotonic()
                        shown = ", ".join(f"{k} {got[k]}/{want['figures'][k]}" for k in keys)
                        metrics = await http.get("/metrics")
                        if metrics.status_code == 200:
                            backlog.add(said, metrics.text)
                        behind = backlog.describe()
                        pace = f"; {behind}" if behind else ""
                        print(f"[demo] reporting is still reading the year's events: {shown}{pace}", file=sys.stderr)
            except httpx.HTTPError:
                pass
            await asyncio.sleep(3)
    return False


def _figure(report: dict, dotted: str):
    value = report
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def branch_records_lines(r: dict) -> list[str]:
    """Issue 13's branch records: where the dashboard shows them (docs/demo.md says more)."""
    balances = listed([f"{b} {f['balance']}" for b, f in r["funds"].items()], "; ")
    return [f"  • 支部经费 funds (返缴党费 in January, 社区支持 in March, spending per activity): balances at the year's "
            f"end: {balances}; 透支 overdrawn: {listed(r['funds_overdrawn'])} (dashboard: 支部经费; "
            "GET :8004/api/v1/orgs/<org>/funds?period=<year>).",
            "  • 星级类别 grades and 晋位升级 (beside the recommendation; GET :8004/api/v1/orgs/<org>/grades?year=<year>): "
            + listed([f"{b} {g}" for b, g in r["grades"].items()], "; "),
            f"  • 远程学习 remote study (GET :8004/api/v1/orgs/<org>/study?period=<year>): of {r['study']['registered']} "
            f"members at the year's end, {r['study']['with_xuexi']} have 学习强国, {r['study']['with_red_x']} 红色X, "
            f"{r['study']['with_neither']} neither — the list to reach by 送学上门 "
            "(GET :8004/api/v1/orgs/<org>/study/home-delivery?period=<year>).",
            "  • 发展党员 the way into the Party (GET :8004/api/v1/orgs/<org>/activists?period=<year>): at the year's end "
            + ", ".join(f"{k} {n}" for k, n in r["applicants"]["by_stage_at_year_end"].items())
            + f"; 预备期满未转正: {listed(r['applicants']['probation_overdue'])}; 最美入党积极分子 candidates: "
            "GET :8004/api/v1/orgs/<org>/candidates?year=<year> (best_activist)."]
