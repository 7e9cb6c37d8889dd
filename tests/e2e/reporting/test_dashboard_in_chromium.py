"""The dashboard renders real data in headless Chromium; a screenshot is kept under artifacts/.

Needs /usr/bin/chromium (scripts/install-chromium.sh); skipped, saying so, when it is missing.
"""
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infra import ROOT
from tests.support import auth

pytestmark = pytest.mark.e2e
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts"


def chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           "--hide-scrollbars", "--virtual-time-budget=20000", *args],
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed: run scripts/install-chromium.sh")


async def test_dashboard_shows_the_tree_figures_charts_and_alerts(browser, reporting, scenario):
    async with auth.client(reporting.url) as http:
        page = await http.get("/")
    assert page.status_code == 200 and "夕阳红" in page.text and "<script src=" not in page.text  # nothing external
    page_url = f"{reporting.url}/?org={scenario['district']}&period=2026-Q1&year=2026&as_of=2026-03-31"
    signed_out = chromium("--dump-dom", page_url)
    assert signed_out.returncode == 0, signed_out.stderr[-2000:]
    assert 'data-ready="1"' not in signed_out.stdout and '<section id="signin">' in signed_out.stdout  # shown
    url = f"{page_url}#token={auth.token('district')}"  # signed in by a link (the fragment stays in the browser)
    dom = chromium("--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert 'data-ready="1"' in html, html[-3000:]
    assert "X区（区）· 2026-Q1 · 截至 2026-03-31" in html
    assert "天鹅湖社区退休党支部1" in html and "天鹅湖社区退休党支部2" in html  # the tree and the branch table
    assert "288.00" in html and "80.0%" in html  # amount paid, participation rate
    assert html.count("<polyline") >= 3 and "<rect" in html  # participation, dues, heatmap and away charts
    assert "欠缴党费" in html and "组织生活未按期开展" in html and "赵玉梅" in html  # alerts, by name
    assert "支委职数（应配/已配）" in html and "书记培训覆盖率" in html  # a branch's leadership (issue 13)
    assert "支委职务空缺超期" in html  # b1's committee posts were never filled
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "reporting-dashboard.png"
    shot.unlink(missing_ok=True)
    result = chromium("--window-size=1400,2400", f"--screenshot={shot}", url)
    assert result.returncode == 0 and shot.exists() and shot.stat().st_size > 20000, result.stderr[-2000:]


async def test_drill_down_endpoints_behind_the_dashboard(reporting, scenario):
    async with auth.client(reporting.url, timeout=30) as http:
        tree = (await http.get("/api/v1/orgs")).json()
        assert {scenario["district"], scenario["b1"], scenario["b2"]} <= {o["org_id"] for o in tree}
        members = (await http.get(f"/api/v1/orgs/{scenario['b1']}/members", params={"as_of": "2026-03-31"})).json()
        assert {m["member_id"]: m["status"] for m in members} == {scenario["m1"]: "resident", scenario["m2"]: "away",
                                                                   scenario["m3"]: "exempt"}
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
