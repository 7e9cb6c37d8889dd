"""Chinese labels of the machine codes and figures reporting shows (codes are stored, labels displayed).

Defined once: the exports use them and the dashboard reads them (`GET /api/v1/labels`), so a
figure has the same name on the screen and in the spreadsheet.
"""
from shared.contracts.codes import ORG_LIFE_KINDS
from shared.rules.grading import MOVE_LABELS  # a branch's yearly grade: its move (晋位升级)
from shared.rules.labels import ACTIVITY_KINDS, ATTENDANCE_MODES, ATTENDANCE_STATUSES
from shared.periods import Period

KIND_LABELS = {k: ACTIVITY_KINDS[k] for k in ORG_LIFE_KINDS}
STATUS_LABELS = {"resident": "在住", "away": "外出", "exempt": "免于参加", "transferred": "已转出", "deceased": "已去世",
                 "unregistered": "未登记"}
ALERT_LABELS = {
    "dues_arrears": "欠缴党费", "no_participation": "未参加组织生活", "missed_meetings": "组织生活未按期开展",
    "not_visited": "超期未走访", "branch_too_small": "正式党员不足3人", "no_secretary": "未配备书记",
    "transfer_suggested": "建议转移组织关系", "term_overdue": "支委会换届逾期", "post_vacant": "支委职务空缺超期",
    "secretary_untrained": "书记年度未参加培训", "funds_overdrawn": "支部经费透支",
    "probation_overdue": "预备期满未讨论转正", "request_overdue": "服务需求逾期未办结",
}
POST_LABELS = {"secretary": "书记", "deputy_secretary": "副书记", "organization_member": "组织委员",
               "propaganda_member": "宣传委员", "discipline_member": "纪检委员"}
LEVEL_LABELS = {"alert": "严重", "warning": "警告", "info": "提示"}
ORG_KIND_LABELS = {"district": "区", "subdistrict": "街道", "town": "镇", "community": "社区", "branch": "支部"}
# A report's figures by their path in the report body.
FIGURE_LABELS = {
    "members.registered": "登记党员", "members.resident": "在住党员", "members.away": "外出党员",
    "members.exempt": "免于参加", "members.deceased": "期内去世",
    "participation.active": "参加活动人数", "participation.rate": "参与率",
    "participation.resident_rate": "在住参与率",
    "organisational_life.compliance": "组织生活完成率",
    "dues.member_months_due": "应缴人月", "dues.member_months_paid": "已缴人月", "dues.rate": "党费缴纳率",
    "dues.amount_paid": "实收党费（元）", "volunteer_hours": "志愿服务（小时）",
    "notices.sent": "需回执通知（人次）", "notices.acknowledged": "已回执（人次）", "notices.ack_rate": "通知回执率",
    "visits.members_visited": "走访人数", "visits.overdue": "超期未走访",
    "score": "推荐得分", "recommended_stars": "推荐星级", "stars": "评定星级",
}
# Issue 13's branch records: a branch's funds (返缴党费、活动经费).
FUND_SOURCE_LABELS = {"dues_returned": "返缴党费", "higher_level": "上级拨款", "community": "社区支持",
                      "donation": "捐赠", "other": "其他收入"}
FUNDS_LABELS = {"received": "收入合计", "spent": "支出合计", "spent_on_activities": "活动支出",
                "spent_otherwise": "其他支出", "opening": "期初余额", "balance": "结余", **FUND_SOURCE_LABELS}
# Remote study (远程学习): the platforms, and how a member took part (attendance modes).
STUDY_LABELS = {"red_x": "红色X", "xuexi": "学习强国", "coverage": "远程教育覆盖率", "use_rate": "远程教育使用率",
                "with_neither": "两者均无（需送学上门）", "remote_share": "远程参加占比"}
# The way into the Party (发展党员).
APPLICANT_STAGE_LABELS = {"applicant": "入党申请人", "activist": "入党积极分子", "development_target": "发展对象",
                          "probationary": "预备党员", "full_member": "正式党员（已转正）", "withdrawn": "已取消资格"}
# Organisational life: held first, then required, as the dashboard's "实际/应开".
HELD, REQUIRED = "实际", "应开"
NOT_RATED = "未评定"
# An organisation with no registered member on the reading day: nothing to rate (the dashboard).
NO_MEMBERS = "无在册党员"


def period_label(period: Period) -> str:
    """"2025年度", "2025年第1季度", "2025年1月份": words no spreadsheet reads as a date."""
    year = period.start.year
    if period.kind == "year":
        return f"{year}年度"
    if period.kind == "quarter":
        return f"{year}年第{(period.start.month - 1) // 3 + 1}季度"
    return f"{year}年{period.start.month}月份"


def all_labels() -> dict:
    """What the dashboard names things by."""
    return {"kinds": KIND_LABELS, "activity_kinds": ACTIVITY_KINDS, "attendance": ATTENDANCE_STATUSES,
            "statuses": STATUS_LABELS, "alerts": ALERT_LABELS, "levels": LEVEL_LABELS,
            "org_kinds": ORG_KIND_LABELS, "figures": FIGURE_LABELS, "held": HELD, "required": REQUIRED,
            "not_rated": NOT_RATED, "no_members": NO_MEMBERS, "posts": POST_LABELS, "funds": FUNDS_LABELS,
            "grade_moves": MOVE_LABELS, "study": STUDY_LABELS, "attendance_modes": ATTENDANCE_MODES,
            "applicant_stages": APPLICANT_STAGE_LABELS, **service_labels(), **facility_labels()}


def service_labels() -> dict:
    """Service requests and difficulties (issue 13)."""
    from shared.rules import service_labels as s

    return {"services": s.SERVICES, "request_kinds": s.REQUEST_KINDS, "request_sources": s.REQUEST_SOURCES,
            "request_outcomes": s.REQUEST_OUTCOMES, "request_statuses": s.REQUEST_STATUSES}


def facility_labels() -> dict:
    """阵地需求 (issue 13): the activities asked for, where a demand came from, the gap list's words."""
    from shared.rules.facilities import DEMAND_SOURCES, FACILITY_ACTIVITIES, GAP_LABELS

    return {"facility_activities": FACILITY_ACTIVITIES, "demand_sources": DEMAND_SOURCES, "facility_gaps": GAP_LABELS}
