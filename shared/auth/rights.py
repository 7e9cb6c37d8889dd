"""The rights each role holds, and the commands each may submit over HTTP.

Each service declares, in one table (`entrypoints/rights.py`), the right every route needs; a role
holds the rights below. A right says what kind of thing may be read; the scope (which
organisations, which members) comes from the token (`claims.Caller`), and what lies outside it
answers 404. Personal data within reach is masked or shown by `masking`.
"""
from enum import StrEnum

from shared.auth.claims import ROLES, Role


class Right(StrEnum):
    ORGS = "orgs:read"
    REPORTS = "reports:read"
    ALERTS = "alerts:read"
    CANDIDATES = "candidates:read"
    MEMBER_LISTS = "members:list"
    MEMBER = "member:read"
    AUDIT = "audit:read"
    ACTIVITIES = "activities:read"
    VENUES = "venues:read"
    NOTICES = "notices:read"
    FEEDBACK = "feedback:read"
    SPECIALIST_WORK = "specialist:read"
    COMMANDS = "commands:submit"
    OPERATIONS = "ops:read"


RIGHT_LABELS = {
    Right.ORGS: "查看组织体系", Right.REPORTS: "查看报表与导出", Right.ALERTS: "查看预警",
    Right.CANDIDATES: "查看评选推荐", Right.MEMBER_LISTS: "查看党员名册", Right.MEMBER: "查看党员台账",
    Right.AUDIT: "查看变更记录", Right.ACTIVITIES: "查看组织生活与活动", Right.VENUES: "查看活动阵地",
    Right.NOTICES: "查看通知与送达", Right.FEEDBACK: "查看反馈意见", Right.SPECIALIST_WORK: "查看联系专员工作",
    Right.COMMANDS: "提交指令", Right.OPERATIONS: "查看运行状态",
}

_OFFICIAL = frozenset(Right) - {Right.OPERATIONS}
ROLE_RIGHTS: dict[Role, frozenset[Right]] = {
    "district": _OFFICIAL,
    "subdistrict": _OFFICIAL,
    "community": _OFFICIAL - {Right.CANDIDATES},  # the annual selection is the subdistrict's and district's
    "secretary": _OFFICIAL - {Right.CANDIDATES},
    "specialist": frozenset({Right.MEMBER, Right.SPECIALIST_WORK, Right.COMMANDS}),
    "member": frozenset({Right.MEMBER, Right.COMMANDS}),
    "operator": frozenset({Right.OPERATIONS}),
}
assert set(ROLE_RIGHTS) == set(ROLES)

# Roles that submit commands only about their own work, and the field that must name them:
# a specialist records their visits and door deliveries, a member acknowledges and gives feedback.
# Every other role holding `commands:submit` may submit any command of the service.
OWN_COMMANDS: dict[Role, dict[str, str]] = {
    "specialist": {"RecordVisit": "specialist_id", "CompleteDoorDelivery": "specialist_id"},
    "member": {"AcknowledgeNotice": "member_id", "RecordFeedback": "member_id"},
}


def holds(role: Role, right: Right) -> bool:
    return right in ROLE_RIGHTS[role]


def command_refusal(role: Role, own_id: str | None, command_type: str, data: dict) -> str | None:
    """Why this role may not submit this command (a sentence in Chinese), or None when it may."""
    if not holds(role, Right.COMMANDS):
        return "无权提交指令"
    own = OWN_COMMANDS.get(role)
    if own is None:
        return None
    field = own.get(command_type)
    if field is None:
        return f"无权提交 {command_type}：只能提交 {'、'.join(sorted(own))}"
    if data.get(field) != own_id:
        return f"只能以本人身份提交 {command_type}（data.{field} 须为 {own_id}）"
    return None
