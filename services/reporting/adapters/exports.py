"""Spreadsheet exports: .xlsx (a summary sheet and one per branch) and .csv (UTF-8 with BOM).

Headers are the dashboard's labels (domain/labels.py); every row carries the ids a person needs
to act on it. Numbers are numbers: in the xlsx, counts, rates, money and hours are numeric cells
with a number format, dates are date cells; in the CSV, nothing a spreadsheet program would
read as a date unless it is one (held and required meetings are two columns, never "4/4"; the
period is "2025年1月份", not "2025-01"; rates are "31.23%").

The xlsx lists at most `MAX_MEMBER_ROWS` members (a district holds tens of thousands: a workbook
that size is neither read nor printed). Branches are listed whole, in the report's order, while
they fit; a branch that does not fit keeps its figures and says in a note where its members went,
and so does the summary sheet: an official exports that branch or community on its own.
"""
import csv
import io
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from services.reporting.domain.labels import (
    FIGURE_LABELS, HELD, KIND_LABELS, NO_MEMBERS, NOT_RATED, REQUIRED, STATUS_LABELS, period_label,
)
from shared.contracts.codes import ORG_LIFE_KINDS
from shared.periods import parse_period

# Kinds of cell: how each is written in the xlsx (number format) and in the CSV.
TEXT, INT, RATE, MONEY, HOURS, SCORE, DAY, STARS = "text", "int", "rate", "money", "hours", "score", "day", "stars"
MAX_MEMBER_ROWS = 5_000
MASKED = "****"  # a sum that is one person's money (domain/disclosure.py): text, not a number
UNMEASURED = "—"  # a rate or score of an organisation with no registered member (below): text
IN_WORDS = (MASKED, UNMEASURED, NO_MEMBERS)  # figures written as words, in text cells of both formats
XLSX_FORMATS = {INT: "0", RATE: "0.00%", MONEY: "#,##0.00", HOURS: "0.0#", SCORE: "0.00", DAY: "yyyy-mm-dd",
                STARS: "0"}


def _at(path: str, optional: bool = False):
    """The value at a dotted path of a report. `optional`: a section a report may lack (one read
    before issue 13's sections) gives an empty cell rather than an error."""
    def get(r: dict):
        node = r
        for part in path.split("."):
            if optional and (not isinstance(node, dict) or part not in node):
                return None
            node = node[part]
        return node
    return get


def _figure(path: str, kind: str) -> tuple[str, object, str]:
    return FIGURE_LABELS[path], _at(path), kind


def _unmeasured(r: dict) -> bool:
    """No registered member on the reading day (a branch merged away or not filled yet, a town
    whose only branch was): its rates have nothing to measure, and the score the rule gives then
    (domain.md counts such a rate as 1: 60 and two stars for an empty branch, 100 and five for an
    emptied town) would read as a grade. The exports say so as the dashboard does: "—" and
    无在册党员; the API keeps the contract's figures."""
    return (r.get("members") or {}).get("registered") == 0


def _measured(path: str, kind: str, instead: str = UNMEASURED) -> tuple[str, object, str]:
    """A figure that an organisation with nobody to measure shows as `instead`."""
    get = _at(path)
    return FIGURE_LABELS[path], (lambda r: instead if _unmeasured(r) else get(r)), kind


# Issue 13's sections, as the dashboard's leadership cards name them: the committee, the
# secretaries' training, their allowance (masked as one person's pay over a single branch) and
# the year's assessments.
LEADERSHIP_COLUMNS = [
    ("支委职数（应配）", _at("committee.posts_required", True), INT),
    ("支委职数（已配）", _at("committee.posts_filled", True), INT),
    ("空缺职务", _at("committee.posts_vacant", True), INT), ("空缺超期", _at("committee.posts_vacant_too_long", True), INT),
    ("换届逾期支部", _at("committee.terms_overdue", True), INT), ("期内选举", _at("committee.elections_held", True), INT),
    ("书记（人）", _at("training.secretaries", True), INT), ("书记本年度已培训（人）", _at("training.trained", True), INT),
    ("书记培训覆盖率", _at("training.coverage", True), RATE),
    ("书记补助应发（元）", _at("allowance.amount_due", True), MONEY),
    ("书记补助已发（元）", _at("allowance.amount_paid", True), MONEY),
    ("书记补助未发（元）", _at("allowance.amount_unpaid", True), MONEY),
    ("书记考核年度", _at("assessments.year", True), INT),
    ("书记考核：优秀", _at("assessments.excellent", True), INT), ("书记考核：称职", _at("assessments.competent", True), INT),
    ("书记考核：基本称职", _at("assessments.basically_competent", True), INT),
    ("书记考核：不称职", _at("assessments.incompetent", True), INT),
]


REPORT_COLUMNS = [
    ("组织ID", _at("org_id"), TEXT), ("组织名称", _at("name"), TEXT),
    ("统计期", lambda r: period_label(parse_period(r["period"])), TEXT), ("截至日期", _at("as_of"), DAY),
    _figure("members.registered", INT), _figure("members.resident", INT), _figure("members.away", INT),
    _figure("members.exempt", INT), _figure("members.deceased", INT),
    _figure("participation.active", INT), _measured("participation.rate", RATE),
    _measured("participation.resident_rate", RATE),
    *[col for k in ORG_LIFE_KINDS for col in (
        (f"{KIND_LABELS[k]}（{HELD}）", _at(f"organisational_life.{k}.held"), INT),
        (f"{KIND_LABELS[k]}（{REQUIRED}）", _at(f"organisational_life.{k}.required"), INT))],
    _measured("organisational_life.compliance", RATE),
    _figure("dues.member_months_due", INT), _figure("dues.member_months_paid", INT), _measured("dues.rate", RATE),
    _figure("dues.amount_paid", MONEY), _figure("volunteer_hours", HOURS),
    _figure("notices.sent", INT), _figure("notices.acknowledged", INT), _figure("notices.ack_rate", RATE),
    _figure("visits.members_visited", INT), _figure("visits.overdue", INT),
    _measured("score", SCORE), _measured("recommended_stars", STARS, NO_MEMBERS),
    (FIGURE_LABELS["stars"], _at("stars"), STARS),
    *LEADERSHIP_COLUMNS,
]
MEMBER_COLUMNS = [
    ("党员ID", _at("member_id"), TEXT), ("姓名", _at("name"), TEXT), ("支部ID", _at("branch_id"), TEXT),
    ("支部", _at("branch_name"), TEXT), ("状态", lambda m: STATUS_LABELS.get(m["status"], m["status"]), TEXT),
    ("登记日期", _at("registered_on"), DAY),
    ("党费已缴至", lambda m: _month_label(m["dues"]["paid_through"]), TEXT),
    ("欠缴月数", _at("dues.unpaid"), INT),
    ("最近参加组织生活", _at("last_present"), DAY), ("最近走访", _at("last_visit"), DAY),
    ("一对一专员ID", _at("specialist_id"), TEXT),
]


def _month_label(month: str | None) -> str | None:
    return period_label(parse_period(month)) if month else None


def _xlsx_value(value, kind: str):
    if value is None:
        return NOT_RATED if kind == STARS else None
    if value in IN_WORDS:
        return value
    if kind in (MONEY, HOURS, SCORE, RATE):
        return Decimal(str(value))
    if kind == DAY:
        return date.fromisoformat(value)
    return value


def _csv_value(value, kind: str) -> str:
    if value is None:
        return NOT_RATED if kind == STARS else ""
    if value in IN_WORDS:
        return value
    if kind == RATE:  # read back as the same number by a spreadsheet program: 0.3123 → "31.23%"
        return f"{Decimal(str(value)) * 100:.2f}%"
    return str(value)


def _append(sheet, columns, row: dict) -> None:
    sheet.append([_xlsx_value(get(row), kind) for _, get, kind in columns])
    for cell, (_, _, kind) in zip(sheet[sheet.max_row], columns):
        if kind in XLSX_FORMATS and cell.value is not None and not isinstance(cell.value, str):
            cell.number_format = XLSX_FORMATS[kind]


def _header(sheet, columns) -> None:
    sheet.append([h for h, _, _ in columns])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)


def listed_branches(branches: list[dict], members: list[dict], limit: int = MAX_MEMBER_ROWS) -> set[str]:
    """The branches whose members the xlsx lists: whole branches, in order, while they fit."""
    counts: dict[str, int] = {}
    for m in members:
        counts[m["branch_id"]] = counts.get(m["branch_id"], 0) + 1
    listed, rows = set(), 0
    for r in branches:
        n = counts.get(r["org_id"], 0)
        if rows + n > limit:
            break
        listed.add(r["org_id"])
        rows += n
    return listed


def xlsx(summary: dict, branches: list[dict], members: list[dict], limit: int = MAX_MEMBER_ROWS) -> bytes:
    """`members`: every member of the subtree; those of the branches not listed are only counted, so
    `member_id` and `branch_id` are all they need (queries.members_of with `listed`)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    _header(ws, REPORT_COLUMNS)
    for r in [summary, *branches]:
        _append(ws, REPORT_COLUMNS, r)
    listed = listed_branches(branches, members, limit)
    left_out = sum(1 for m in members if m["branch_id"] not in listed)
    if left_out:
        ws.append([])
        ws.append([f"说明：党员名单最多列出 {limit} 人，本表共 {len(members)} 人，{left_out} 人所在支部的名单未列出；"
                   "请按支部或社区分别导出。"])
    used = {"汇总"}
    for r in branches:
        sheet = wb.create_sheet(_sheet_title(r["name"], used))
        _header(sheet, REPORT_COLUMNS)
        _append(sheet, REPORT_COLUMNS, r)
        sheet.append([])
        if r["org_id"] not in listed:
            sheet.append([f"说明：超出导出上限（{limit} 人），本支部党员名单未列出；请单独导出本支部。"])
            continue
        _header(sheet, MEMBER_COLUMNS)
        for m in members:
            if m["branch_id"] == r["org_id"]:
                _append(sheet, MEMBER_COLUMNS, m)
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
    w.writerow([h for h, _, _ in REPORT_COLUMNS])
    for r in [summary, *branches]:
        w.writerow([_csv_value(get(r), kind) for _, get, kind in REPORT_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
