"""Exports say what the dashboard says, and a spreadsheet program reads every cell as what it is."""
import csv
import io
import re
from pathlib import Path
from datetime import datetime

import pytest
from openpyxl import load_workbook

from services.reporting.adapters import exports
from services.reporting.domain.labels import FIGURE_LABELS, KIND_LABELS
from shared.contracts.codes import ORG_LIFE_KINDS

pytestmark = pytest.mark.unit

DASHBOARD = Path(__file__).resolve().parents[3] / "services/reporting/entrypoints/static/index.html"

# What Excel turns into a date when it opens a CSV: 4/4, 12-12, 2025-01, 2025/1/31, 1月5日, 2025年1月…
LOOKS_LIKE_A_DATE = re.compile(r"^\s*(\d{1,4}\s*[/-]\s*\d{1,2}(\s*[/-]\s*\d{1,4})?|\d{1,4}年\d{1,2}月(\d{1,2}日)?"
                               r"|\d{1,2}月\d{1,2}日?|\d{1,2}:\d{2}(:\d{2})?)\s*$")


def report(org_id="b1", name="天鹅湖社区退休党支部", period="2025-01", stars=None) -> dict:
    life = {k: {"required": n, "held": n} for k, n in zip(ORG_LIFE_KINDS, (1, 4, 12, 1, 1, 0, 0))}
    return {"org_id": org_id, "name": name, "kind": "branch", "period": period, "as_of": "2025-01-31",
            "members": {"registered": 25, "resident": 21, "away": 4, "exempt": 2, "deceased": 0},
            "participation": {"active": 19, "rate": 0.8261, "resident_rate": 0.9},
            "organisational_life": {**life, "compliance": 1.0},
            "dues": {"member_months_due": 25, "member_months_paid": 24, "rate": 0.96, "amount_paid": "1000.00"},
            "volunteer_hours": "10", "notices": {"sent": 100, "acknowledged": 31, "ack_rate": 0.31},
            "visits": {"members_visited": 7, "overdue": 1}, "score": 87.83, "recommended_stars": 4, "stars": stars}


MEMBER = {"member_id": "m1", "name": "王秀英", "branch_id": "b1", "branch_name": "天鹅湖社区退休党支部",
          "status": "away", "registered_on": "2024-03-05", "last_present": "2025-01-20", "last_visit": None,
          "dues": {"paid_through": "2025-06", "unpaid": 0, "unpaid_since": None}, "specialist_id": "s1"}


def csv_rows(*reports) -> list[dict]:
    text = exports.csv_bytes(reports[0], list(reports[1:])).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_lists_meetings_held_then_required_in_columns_of_their_own():
    row = csv_rows(report(period="2025"), report())[1]
    header = list(row)
    for kind in ORG_LIFE_KINDS:
        held, required = f"{KIND_LABELS[kind]}（实际）", f"{KIND_LABELS[kind]}（应开）"
        assert header.index(required) == header.index(held) + 1
    assert row[f"{KIND_LABELS['committee_meeting']}（实际）"] == "4"
    assert row[f"{KIND_LABELS['group_meeting']}（应开）"] == "12"


def test_no_csv_cell_opens_as_a_date_except_the_day_of_the_report():
    rows = csv_rows(report(period="2025-01"), report(period="2025-01"))
    for row in rows:
        dates = {k: v for k, v in row.items() if LOOKS_LIKE_A_DATE.match(v)}
        assert dates == {"截至日期": "2025-01-31"}
    assert rows[0]["统计期"] == "2025年1月份"
    assert csv_rows(report(period="2025-Q1"))[0]["统计期"] == "2025年第1季度"


def test_csv_numbers_read_back_as_the_dashboards_numbers():
    row = csv_rows(report(stars=3))[0]
    assert row[FIGURE_LABELS["participation.rate"]] == "82.61%"  # the dashboard shows 82.6%
    assert row[FIGURE_LABELS["dues.amount_paid"]] == "1000.00" and row[FIGURE_LABELS["volunteer_hours"]] == "10"
    assert row[FIGURE_LABELS["recommended_stars"]] == "4" and row[FIGURE_LABELS["stars"]] == "3"
    assert csv_rows(report(stars=None))[0][FIGURE_LABELS["stars"]] == "未评定"


def test_xlsx_figures_are_numbers_with_a_number_format_and_no_text_is_a_date():
    body = exports.xlsx(report(period="2025"), [report()], [MEMBER])
    wb = load_workbook(io.BytesIO(body))
    assert wb.sheetnames == ["汇总", "天鹅湖社区退休党支部"]
    sheet = wb["汇总"]
    header = [c.value for c in sheet[1]]
    cell = lambda label, row=2: sheet.cell(row, header.index(label) + 1)  # noqa: E731
    money, hours = cell(FIGURE_LABELS["dues.amount_paid"]), cell(FIGURE_LABELS["volunteer_hours"])
    assert (money.data_type, money.value, money.number_format) == ("n", 1000, "#,##0.00")
    assert (hours.data_type, hours.value) == ("n", 10) and hours.number_format != "General"
    rate = cell(FIGURE_LABELS["participation.rate"])
    assert (rate.data_type, rate.value, rate.number_format) == ("n", 0.8261, "0.00%")
    held = cell(f"{KIND_LABELS['committee_meeting']}（实际）")
    assert (held.data_type, held.value) == ("n", 4)
    assert cell("截至日期").value == datetime(2025, 1, 31) and cell("截至日期").number_format == "yyyy-mm-dd"
    assert cell(FIGURE_LABELS["stars"]).value == "未评定"
    for ws in wb:
        for row in ws.iter_rows():
            for c in row:
                assert not (isinstance(c.value, str) and LOOKS_LIKE_A_DATE.match(c.value)), (ws.title, c.coordinate)


def test_xlsx_branch_sheet_lists_its_members_with_labels():
    wb = load_workbook(io.BytesIO(exports.xlsx(report(period="2025"), [report()], [MEMBER])))
    rows = list(wb["天鹅湖社区退休党支部"].values)
    header, member = rows[3], dict(zip(rows[3], rows[4]))
    assert header[:2] == ("党员ID", "姓名")
    assert member["状态"] == "外出" and member["党费已缴至"] == "2025年6月份" and member["欠缴月数"] == 0
    assert member["登记日期"] == datetime(2024, 3, 5) and member["最近走访"] is None


def test_xlsx_lists_whole_branches_up_to_its_bound_and_says_where_the_others_went():
    # issue 12: a district's tens of thousands of members are not one workbook
    b1, b2, b3 = (report(org_id=b, name=f"第{n}支部") for n, b in ((1, "b1"), (2, "b2"), (3, "b3")))
    members = [{**MEMBER, "member_id": f"{b}-m{i}", "branch_id": b} for b, n in (("b1", 2), ("b2", 2), ("b3", 1))
               for i in range(n)]
    assert exports.listed_branches([b1, b2, b3], members, limit=3) == {"b1"}  # b2 does not fit whole: nor does b3
    wb = load_workbook(io.BytesIO(exports.xlsx(report(period="2025"), [b1, b2, b3], members, limit=3)))
    assert [r[0] for r in wb["第1支部"].values][4:] == ["b1-m0", "b1-m1"]
    assert "本支部党员名单未列出" in list(wb["第2支部"].values)[-1][0]
    assert "党员名单最多列出 3 人，本表共 5 人，3 人所在支部的名单未列出" in list(wb["汇总"].values)[-1][0]
    whole = load_workbook(io.BytesIO(exports.xlsx(report(period="2025"), [b1, b2, b3], members)))
    assert all(not str(r[0] or "").startswith("说明") for ws in whole for r in ws.values)
    # the route makes the rows of the listed members alone (queries.members_of, `listed`): the others
    # are counted from their id and branch, and the workbook is the same
    counted = [m if m["branch_id"] == "b1" else {"member_id": m["member_id"], "branch_id": m["branch_id"]}
               for m in members]
    same = load_workbook(io.BytesIO(exports.xlsx(report(period="2025"), [b1, b2, b3], counted, limit=3)))
    assert [list(ws.values) for ws in same] == [list(ws.values) for ws in wb]


def test_xlsx_writes_a_masked_sum_as_text():
    masked = report()
    masked["dues"] = {**masked["dues"], "amount_paid": "****"}
    wb = load_workbook(io.BytesIO(exports.xlsx(report(period="2025"), [masked], [])))
    row = dict(zip(*list(wb["汇总"].values)[0:3:2]))
    assert row[FIGURE_LABELS["dues.amount_paid"]] == "****"


def test_the_dashboard_names_figures_by_the_labels_the_exports_use():
    """The dashboard reads its labels from GET /api/v1/labels instead of keeping a copy of its own."""
    html = DASHBOARD.read_text(encoding="utf-8")
    assert "/api/v1/labels" in html
    for label in (*KIND_LABELS.values(), "支委会", "党员大会", "实收党费（元）", "未配备书记"):
        assert label not in html, label


def with_leadership(r: dict, allowance: dict | None = None) -> dict:
    return {**r, "committee": {"branches": 1, "posts_required": 5, "posts_filled": 4, "posts_vacant": 1,
                               "posts_vacant_too_long": 0, "terms_known": 1, "terms_overdue": 0, "elections_held": 1},
            "training": {"secretaries": 1, "trained": 1, "secretary_sessions": 2, "untrained": 0, "coverage": 1.0},
            "allowance": allowance or {"months_due": 12, "months_paid": 11, "amount_due": "2400.00",
                                       "amount_paid": "2200.00", "amount_unpaid": "200.00", "branches": 1},
            "assessments": {"year": 2025, "assessed": 1, "excellent": 1, "competent": 0, "basically_competent": 0,
                            "incompetent": 0}}


def test_exports_carry_the_leadership_sections_as_numbers_and_a_masked_allowance_as_text():
    """Issue 13's sections: the committee, the secretaries' training, allowance and assessments."""
    masked = with_leadership(report(org_id="b2", name="世纪花园社区退休党支部"),
                             {"months_due": 12, "months_paid": 11, "amount_due": "****", "amount_paid": "****",
                              "amount_unpaid": "****", "branches": 1})
    wb = load_workbook(io.BytesIO(exports.xlsx(with_leadership(report(period="2025")), [masked, report(org_id="b3")],
                                               [])))
    rows = list(wb["汇总"].values)
    summary, branch, before = (dict(zip(rows[0], r)) for r in rows[1:4])
    assert (summary["支委职数（已配）"], summary["书记培训覆盖率"], summary["书记补助未发（元）"], summary["书记考核：优秀"]) == (
        4, 1, 200, 1)
    assert branch["书记补助应发（元）"] == "****" and branch["空缺职务"] == 1
    assert before["支委职数（应配）"] is None  # a report without the sections: empty cells, not an error
    row = csv_rows(with_leadership(report()))[0]
    assert (row["书记培训覆盖率"], row["书记补助已发（元）"], row["书记考核年度"]) == ("100.00%", "2200.00", "2025")


def empty_branch() -> dict:
    """A branch with nobody registered on the day, as the API reports it: the rule counts every
    rate with nothing to measure as 1 (domain.md), hence 60 points and two stars."""
    r = report(org_id="b2", name="并入后的原支部")
    r["members"] = {"registered": 0, "resident": 0, "away": 0, "exempt": 0, "deceased": 0}
    r["participation"] = {"active": 0, "rate": 1.0, "resident_rate": 1.0}
    r["organisational_life"]["compliance"] = 1.0
    r["dues"] = {"member_months_due": 0, "member_months_paid": 0, "rate": 1.0, "amount_paid": "0.00"}
    r.update(score=60.0, recommended_stars=2)
    return r


UNMEASURED = ["participation.rate", "participation.resident_rate", "organisational_life.compliance", "dues.rate",
              "score"]


def test_an_organisation_with_no_registered_member_exports_no_rate_score_or_stars_as_the_dashboard():
    summary, filled, empty = report(period="2025"), report(), empty_branch()
    rows = csv_rows(summary, filled, empty)
    for path in UNMEASURED:
        assert rows[2][FIGURE_LABELS[path]] == "—", path
        assert rows[1][FIGURE_LABELS[path]] not in ("—", ""), path
    assert rows[2][FIGURE_LABELS["recommended_stars"]] == "无在册党员"
    assert rows[1][FIGURE_LABELS["recommended_stars"]] == "4"
    assert rows[2][FIGURE_LABELS["members.registered"]] == "0"

    sheet = load_workbook(io.BytesIO(exports.xlsx(summary, [filled, empty], []))).active
    header = [c.value for c in sheet[1]]
    filled_row, empty_row = ([c.value for c in sheet[n]] for n in (3, 4))
    for path in UNMEASURED:
        assert empty_row[header.index(FIGURE_LABELS[path])] == "—", path
        assert isinstance(filled_row[header.index(FIGURE_LABELS[path])], (int, float)), path
    assert empty_row[header.index(FIGURE_LABELS["recommended_stars"])] == "无在册党员"
    assert filled_row[header.index(FIGURE_LABELS["recommended_stars"])] == 4
