"""The dashboard renders real data in headless Chromium; a screenshot is kept under artifacts/.

Needs /usr/bin/chromium (scripts/install-chromium.sh); skipped, saying so, when it is missing.
"""
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scripts.dashboard_screenshots import CHROMIUM, PHONE, chromium, phone_page
from tests.infra import ROOT
from tests.support import auth
from tests.support.messages import eventually

pytestmark = pytest.mark.e2e
ARTIFACTS = ROOT / "artifacts"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed: run scripts/install-chromium.sh")


def signed_in(url: str) -> str:
    """The page signed in as a district official, by a link (the fragment stays in the browser)."""
    return url if "#token=" in url else f"{url}#token={auth.token('district')}"


def dom(url: str) -> str:
    url = signed_in(url)
    result = chromium("--window-size=1400,2400", "--dump-dom", url)
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'data-ready="1"' in result.stdout, result.stdout[-3000:]
    return result.stdout


def text(html: str) -> str:
    """What a person reads: the page without its tags and their attributes (ids live there)."""
    return re.sub(r"<[^>]+>", " ", html.split("<body", 1)[1].split("<script", 1)[0])


async def test_dashboard_shows_the_tree_figures_charts_and_alerts(browser, reporting, scenario):
    async with auth.client(reporting.url) as http:
        page = await http.get("/")
    assert page.status_code == 200 and "夕阳红" in page.text and "<script src=" not in page.text  # nothing external
    page_url = f"{reporting.url}/?org={scenario['district']}&period=2026-Q1&year=2026&as_of=2026-03-31"
    signed_out = chromium("--dump-dom", page_url)
    assert signed_out.returncode == 0, signed_out.stderr[-2000:]
    assert 'data-ready="1"' not in signed_out.stdout and '<section id="signin">' in signed_out.stdout  # shown
    url = f"{page_url}#token={auth.token('district')}"  # signed in by a link (the fragment stays in the browser)
    html = dom(url)
    assert "X区（区）· 2026年第1季度 · 截至 2026-03-31" in html
    assert "天鹅湖社区退休党支部1" in html and "天鹅湖社区退休党支部2" in html  # the tree and the branch table
    assert "288.00" in html and "80.0%" in html  # amount paid, participation rate
    assert html.count("<polyline") >= 3 and "<rect" in html  # participation, dues and away charts
    assert "支部委员会会议" in html and "1/3" in html  # the heatmap, held/required as the exports say it
    assert "义务血压站" in html  # volunteer hours by team
    assert "欠缴党费" in html and "组织生活未按期开展" in html and "赵玉梅" in html  # alerts, by name
    async with auth.client(reporting.url) as http:  # the count says every alert, listed or not
        listed = (await http.get("/api/v1/alerts", params={"org_id": scenario["district"], "as_of": "2026-03-31"})).json()
    assert re.search(rf"共 {listed['total']} 条：严重 \d+，警告 \d+，提示 \d+", text(html)), text(html)[:3000]
    # A district of thousands of branches shows a row per organisation below it (asked here by the link)
    by_children = dom(f"{page_url}&rows=children")
    table = by_children.split('id="branches-section"', 1)[1].split("</section>", 1)[0]
    assert "各下级组织指标" in table and "湖滨街道" in table and "天鹅湖社区退休党支部1" not in table
    assert "组织生活完成情况（下级组织 × 会议类型）" in by_children and "组织生活完成情况（支部 × 会议类型）" in html
    assert "支委职数（应配/已配）" in html and "书记培训覆盖率" in html  # a branch's leadership (issue 13)
    assert "支委职务空缺超期" in html  # b1's committee posts were never filled
    assert "2026年第1季度" in text(html) and "2026年1月起" in text(html)  # since in words
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "reporting-dashboard.png"
    shot.unlink(missing_ok=True)
    result = chromium("--window-size=1400,2400", f"--screenshot={shot}", url)
    assert result.returncode == 0 and shot.exists() and shot.stat().st_size > 20000, result.stderr[-2000:]


async def test_without_parameters_the_current_year_as_of_today_and_an_empty_year_says_so(browser, reporting,
                                                                                          scenario):
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    html = dom(f"{reporting.url}/?org={scenario['district']}")
    assert f"X区（区）· {today.year}年度 · 截至 {min(today, date(today.year, 12, 31))}" in html
    empty = text(dom(f"{reporting.url}/?org={scenario['district']}&period=2030&year=2030&as_of=2030-06-30"))
    assert "2030年度暂无记录" in empty and "0.0%" not in empty


async def test_a_branch_without_members_shows_no_rate_score_or_stars(browser, reporting, rbus):
    """A branch with nobody registered (merged away, or not filled yet): the rule gives its rates
    with nothing to measure as 1 (domain.md), hence a score and stars that would read as praise.
    The dashboard shows 无在册党员 and no figure for it; its neighbour's row is as before."""
    from shared.contracts import members as m
    from tests.integration.reporting.support import event, paid, publish, registered, tree_events, uid

    full, empty, member = uid("b"), uid("b"), uid("m")
    ids, orgs = tree_events([(full, False, 0), (empty, False, 0)])
    await publish(rbus, *orgs, registered(member, full, "2026-01-05"),
                  paid(member, full, ["2026-01"], "24.00", "2026-01-10"),
                  event(m.SecretaryAppointed, "2026-01-06", branch_id=full, member_id=member))
    url = f"{reporting.url}/?org={ids['community']}&period=2026-Q1&year=2026&as_of=2026-03-31"
    async with auth.client(reporting.url) as http:
        async def paid_seen():
            r = await http.get(f"/api/v1/orgs/{ids['community']}/report", params={"period": "2026-Q1"})
            return r.status_code == 200 and r.json()["dues"]["member_months_paid"] == 1
        await eventually(paid_seen, timeout=60)
    html = dom(url)
    rows = re.findall(r"<tr[^>]*data-org=[^>]*>(.*?)</tr>", html.split('id="branches"', 1)[1].split("</table>", 1)[0])
    cells = {re.sub(r"<[^>]+>", "", r.split("</td>", 1)[0]): re.sub(r"<[^>]+>", " ", r) for r in rows}
    [filled] = [v for k, v in cells.items() if k.endswith("1")]
    [unfilled] = [v for k, v in cells.items() if k.endswith("2")]
    assert "无在册党员" in unfilled and "%" not in unfilled and "★" not in unfilled, unfilled
    assert "无在册党员" not in filled and "%" in filled, filled
    # nor a participation line at 0 %: the chart has points for the filled branch only
    chart = html.split('id="chart-participation"', 1)[1].split("</svg>", 1)[0]
    assert "天鹅湖社区退休党支部1 2026-01" in chart and "天鹅湖社区退休党支部2 " not in chart


async def test_branch_view_lists_members_and_opens_a_ledger_with_labels(browser, reporting, scenario):
    s = scenario
    html = dom(f"{reporting.url}/?org={s['b1']}&period=2026-Q1&year=2026&as_of=2026-03-31&member={s['m3']}")
    shown = text(html)
    assert "天鹅湖社区退休党支部1 党员名册（3 人，截至 2026-03-31）" in shown
    assert "外出" in shown and "免于参加" in shown  # statuses in words
    assert "已缴至2026年6月" in shown and "欠缴 2 个月（自2026年2月）" in shown  # m2 in advance; m3 paid January only
    assert "党员台账：张桂兰" in shown and "支部党员大会（请假）" in shown and "1月✓" in shown and "2月✗" in shown
    assert not [i for i in s.values() if isinstance(i, str) and i in shown]  # labels, never raw ids


async def test_the_layout_fits_a_phone(browser, reporting, scenario):
    """390 px wide (headless Chromium's window is 500 px at the least: the dashboard is in a frame)."""
    url = f"{reporting.url}/?org={scenario['district']}&period=2026-Q1&year=2026&as_of=2026-03-31"
    with phone_page(signed_in(url)) as page:
        result = chromium(f"--window-size={PHONE},2400", "--dump-dom", page)
    assert 'data-ready="1"' in result.stdout, result.stdout[-2000:]
    assert int(re.search(r'data-width="(\d+)"', result.stdout)[1]) <= PHONE  # only tables scroll, inside the page


async def test_drill_down_endpoints_behind_the_dashboard(reporting, scenario):
    async with auth.client(reporting.url, timeout=30) as http:
        tree = (await http.get("/api/v1/orgs")).json()
        assert {scenario["district"], scenario["b1"], scenario["b2"]} <= {o["org_id"] for o in tree}
        found = (await http.get(f"/api/v1/orgs/{scenario['b1']}/members", params={"as_of": "2026-03-31"})).json()
        members = found["items"]
        assert (found["total"], found["has_more"]) == (3, False)
        assert {m["member_id"]: m["status"] for m in members} == {scenario["m1"]: "resident", scenario["m2"]: "away",
                                                                   scenario["m3"]: "exempt"}
        pages = [(await http.get(f"/api/v1/orgs/{scenario['b1']}/members",
                                 params={"as_of": "2026-03-31", "page_size": 2, "page": n})).json() for n in (1, 2)]
        assert [(p["total"], p["has_more"]) for p in pages] == [(3, True), (3, False)]
        assert [m for p in pages for m in p["items"]] == members  # by member id, each once
        m5 = (await http.get(f"/api/v1/members/{scenario['m5']}", params={"as_of": "2026-03-31"})).json()
        assert [s["branch_id"] for s in m5["stints"]] == [scenario["b1"], scenario["b2"]]
        assert (await http.get("/api/v1/members/nobody")).status_code == 404
        series = (await http.get(f"/api/v1/orgs/{scenario['district']}/series",
                                 params={"year": 2026, "as_of": "2026-03-31"})).json()
        b1 = next(b for b in series["branches"] if b["branch_id"] == scenario["b1"])
        assert [m["away"] for m in b1["months"]] == [1, 1, 1]  # m2 in Sanya all quarter
        assert b1["compliance"]["committee_meeting"] == {"held": 1, "required": 12}
        # the table and heatmap follow the period the cards show, not the year to date (issue 11, item 6)
        q = (await http.get(f"/api/v1/orgs/{scenario['district']}/series",
                            params={"year": 2026, "period": "2026-02", "as_of": "2026-03-31"})).json()
        b1 = next(b for b in q["branches"] if b["branch_id"] == scenario["b1"])
        assert q["period"] == "2026-02" and b1["report"]["period"] == "2026-02"
        assert b1["compliance"]["committee_meeting"]["required"] == 1
        assert len(b1["months"]) == 3  # the lines still show the year
        assert (await http.get(f"/api/v1/orgs/{scenario['district']}/series",
                               params={"year": 2026, "period": "2026-13"})).status_code == 422
