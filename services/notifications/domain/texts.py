"""What members read, in Simplified Chinese, and SMS segmenting (at most 70 characters each)."""
from datetime import datetime

from shared.periods import SHANGHAI

SMS_LIMIT = 70
SIGNATURE = "【夕阳红】"
CATEGORY_LABELS = {"document": "文件", "meeting": "会议通知", "study": "学习材料", "reminder": "提醒",
                   "greeting": "问候"}
ACTIVITY_LABELS = {
    "branch_assembly": "支部党员大会", "committee_meeting": "支部委员会会议", "group_meeting": "党小组会",
    "party_lecture": "党课", "themed_party_day": "主题党日", "org_life_meeting": "组织生活会",
    "democratic_evaluation": "民主评议党员", "study": "学习", "volunteer_service": "志愿服务",
    "cultural": "文体活动", "convenience_service": "便民服务",
}


def sms_text(title: str, body: str) -> str:
    return f"{SIGNATURE}{title}：{body}"


def segments(text: str, limit: int = SMS_LIMIT) -> list[str]:
    """Split into parts of at most `limit` characters; parts of a long text carry '(i/n)'."""
    if len(text) <= limit:
        return [text]
    n = 1
    while True:  # the marker's width depends on n, so find n that is consistent
        width = limit - len(f"({n}/{n})")
        needed = -(-len(text) // width)
        if needed <= n:
            break
        n = needed
    parts = [text[i:i + width] for i in range(0, len(text), width)]
    return [f"({i}/{len(parts)}){p}" for i, p in enumerate(parts, 1)]


def meeting_notice(kind: str, title: str, starts_at: datetime, venue: str | None) -> tuple[str, str]:
    local = starts_at.astimezone(SHANGHAI)
    when = f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    where = f"，地点：{venue}" if venue else ""
    label = ACTIVITY_LABELS.get(kind, "活动")
    return (f"{label}通知：{title}",
            f"定于{when}召开{label}「{title}」{where}。请准时参加；不能到场的请向支部请假。")


ALERT_FACTS = {"dues_arrears": "未交纳党费", "no_participation": "未参加组织生活"}


def reminder_to_member(kind: str, name: str, months: int, since: str) -> tuple[str, str]:
    fact = ALERT_FACTS[kind]
    return ("组织提醒", f"{name}同志：您自{_month(since)}起已连续{months}个月{fact}。"
                       "如有困难请联系支部书记或一对一专员，我们上门为您服务。")


def reminder_to_secretary(kind: str, name: str, months: int, since: str, level: str = "warning") -> tuple[str, str]:
    fact = ALERT_FACTS[kind]
    if level == "alert":  # six months: Party Constitution art. 9
        return ("支部工作预警", f"党员{name}自{_month(since)}起已连续{months}个月{fact}，已满六个月。"
                              "请立即上门了解情况并报告上级党组织。")
    return ("支部工作提醒", f"党员{name}自{_month(since)}起已连续{months}个月{fact}，请及时联系了解情况。")


def alert_to_district(kind: str, name: str, branch: str, months: int, since: str) -> tuple[str, str]:
    fact = ALERT_FACTS[kind]
    return ("党员管理预警", f"{branch or '某支部'}党员{name}自{_month(since)}起已连续{months}个月{fact}，"
                          "已满六个月，已同时告知支部书记，请督促支部处理。")


def _month(since: str) -> str:
    year, _, rest = since.partition("-")
    month = rest.split("-")[0] if rest else ""
    return f"{year}年{int(month)}月" if month.isdigit() else since
