"""Exports open in a spreadsheet program; candidates come with evidence."""
import csv
import io

import pytest
from openpyxl import load_workbook
from tests.support import auth

pytestmark = pytest.mark.integration


async def test_xlsx_has_a_summary_and_a_sheet_per_branch(reporting, scenario):
    async with auth.client(reporting.url, timeout=60) as http:
        r = await http.get(f"/api/v1/orgs/{scenario['district']}/report.xlsx", params={"period": "2026-Q1"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["汇总", "天鹅湖社区退休党支部1", "天鹅湖社区退休党支部2"]
    summary = list(wb["汇总"].values)
    assert summary[0][:3] == ("组织ID", "组织名称", "统计期")
    assert [row[0] for row in summary[1:]] == [scenario["district"], scenario["b1"], scenario["b2"]]
    header = summary[0]
    assert summary[1][header.index("登记党员")] == 6 and summary[1][header.index("实收党费（元）")] == 288  # a number
    rows = list(wb["天鹅湖社区退休党支部1"].values)
    members = {row[0]: row for row in rows[4:]}
    assert rows[3][:2] == ("党员ID", "姓名")
    assert set(members) == {scenario["m1"], scenario["m2"], scenario["m3"]}
    assert members[scenario["m2"]][4] == "外出" and members[scenario["m2"]][2] == scenario["b1"]


async def test_csv_is_utf8_with_bom(reporting, scenario):
    async with auth.client(reporting.url, timeout=60) as http:
        r = await http.get(f"/api/v1/orgs/{scenario['district']}/report.csv", params={"period": "2026-Q1"})
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "组织ID" and [row[0] for row in rows[1:]] == [scenario["district"], scenario["b1"],
                                                                       scenario["b2"]]


async def test_candidates_rank_with_evidence(reporting, scenario):
    async with auth.client(reporting.url, timeout=60) as http:
        r = await http.get(f"/api/v1/orgs/{scenario['district']}/candidates",
                           params={"year": 2026, "as_of": "2026-03-31"})
        assert r.status_code == 200
        body = r.json()
        bad = await http.get(f"/api/v1/orgs/{scenario['district']}/candidates", params={"year": "x"})
        assert bad.status_code == 422 and bad.json()["detail"] == "年度（year）：应为整数"  # in Chinese, naming the field
        bad = await http.get(f"/api/v1/orgs/{scenario['district']}/report", params={"period": "2026-13"})
        assert bad.json()["errors"] == [{"field": "period", "message": "统计期（period）：应为 YYYY-MM、YYYY-Qn 或 YYYY，"
                                                                       "如 2026-03、2026-Q1、2026"}]
    assert [c["branch_id"] for c in body["five_good_branch"]] == [scenario["b1"], scenario["b2"]]
    # the year as of 31 March: b1 held 4 of the 34 meetings a year requires of a branch with a committee
    assert body["five_good_branch"][0]["evidence"]["compliance"] == 0.1176
    assert body["best_volunteer"][0]["member_id"] == scenario["m1"]  # 2.5 h; m5's 1.5 h comes second
    assert body["best_secretary"][0]["member_id"] == scenario["m1"]
    assert body["best_activist"] == []  # the activists on the way into the Party: none in this scenario
