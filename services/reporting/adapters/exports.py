"""Spreadsheet exports: .xlsx (a summary sheet and one per branch) and .csv (UTF-8 with BOM).

Headers are Chinese; every row carries the ids a person needs to act on it.
"""
import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from services.reporting.domain.labels import KIND_LABELS, STATUS_LABELS
from shared.contracts.codes import ORG_LIFE_KINDS

REPORT_COLUMNS = [
    ("组织ID", lambda r: r["org_id"]), ("组织名称", lambda r: r["name"]), ("统计期", lambda r: r["period"]),
    ("截至日期", lambda r: r["as_of"]),
    ("登记党员", lambda r: r["members"]["registered"]), ("在住党员", lambda r: r["members"]["resident"]),
    ("外出党员", lambda r: r["members"]["away"]), ("免于参加", lambda r: r["members"]["exempt"]),
    ("期内去世", lambda r: r["members"]["deceased"]),
    ("参加活动人数", lambda r: r["participation"]["active"]), ("参与率", lambda r: r["participation"]["rate"]),
    ("在住参与率", lambda r: r["participation"]["resident_rate"]),
    *[(f"{KIND_LABELS[k]}(应/实)", lambda r, k=k: f"{r['organisational_life'][k]['required']}/"
                                            f"{r['organisational_life'][k]['held']}") for k in ORG_LIFE_KINDS],
    ("组织生活完成率", lambda r: r["organisational_life"]["compliance"]),
    ("应缴人月", lambda r: r["dues"]["member_months_due"]), ("已缴人月", lambda r: r["dues"]["member_months_paid"]),
    ("党费缴纳率", lambda r: r["dues"]["rate"]), ("实收党费(元)", lambda r: r["dues"]["amount_paid"]),
    ("志愿服务时长", lambda r: r["volunteer_hours"]),
    ("通知送达", lambda r: r["notices"]["sent"]), ("通知回执", lambda r: r["notices"]["acknowledged"]),
    ("回执率", lambda r: r["notices"]["ack_rate"]),
    ("走访人数", lambda r: r["visits"]["members_visited"]), ("超期未走访", lambda r: r["visits"]["overdue"]),
    ("推荐得分", lambda r: r["score"]), ("推荐星级", lambda r: r["recommended_stars"]),
    ("评定星级", lambda r: r["stars"] if r["stars"] is not None else ""),
]
MEMBER_COLUMNS = [
    ("党员ID", "member_id"), ("姓名", "name"), ("支部ID", "branch_id"), ("支部", "branch_name"),
    ("状态", "status"), ("登记日期", "registered_on"), ("最近参加活动", "last_present"),
    ("最近走访", "last_visit"), ("已缴月份", "paid_months"), ("一对一专员ID", "specialist_id"),
]


def _report_row(r: dict) -> list:
    return [get(r) for _, get in REPORT_COLUMNS]


def _member_row(m: dict) -> list:
    row = []
    for _, key in MEMBER_COLUMNS:
        v = m.get(key)
        row.append(STATUS_LABELS.get(v, v) if key == "status" else "、".join(v) if isinstance(v, list) else v or "")
    return row


def xlsx(summary: dict, branches: list[dict], members: list[dict]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    ws.append([h for h, _ in REPORT_COLUMNS])
    ws.append(_report_row(summary))
    for r in branches:
        ws.append(_report_row(r))
    for c in ws[1]:
        c.font = Font(bold=True)
    used = {"汇总"}
    for r in branches:
        title = _sheet_title(r["name"], used)
        sheet = wb.create_sheet(title)
        sheet.append([h for h, _ in REPORT_COLUMNS])
        sheet.append(_report_row(r))
        sheet.append([])
        sheet.append([h for h, _ in MEMBER_COLUMNS])
        for m in members:
            if m["branch_id"] == r["org_id"]:
                sheet.append(_member_row(m))
        for c in sheet[1] + sheet[4]:
            c.font = Font(bold=True)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet_title(name: str, used: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique."""
    base = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:28]
    title, n = base, 2
    while title in used:
        title, n = f"{base}({n})", n + 1
    used.add(title)
    return title


def csv_bytes(summary: dict, branches: list[dict]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([h for h, _ in REPORT_COLUMNS])
    w.writerow(_report_row(summary))
    for r in branches:
        w.writerow(_report_row(r))
    return ("\ufeff" + out.getvalue()).encode("utf-8")
