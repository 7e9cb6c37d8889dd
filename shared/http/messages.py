"""What an HTTP caller reads when a request is refused: Simplified Chinese, naming the field at fault.

Validation messages come from pydantic (query parameters, headers, a command's envelope and data)
or from our own checks; they are translated here from pydantic's message templates, once for
every service. The `field` stays the machine name (`period`, `data.branch_id`); the message says
it in words: "统计期（period）：应为 YYYY-MM、YYYY-Qn 或 YYYY，如 2026-03、2026-Q1、2026".
"""
import re

FIELD_LABELS = {
    "period": "统计期", "year": "年度", "as_of": "截至日期", "on": "日期", "org_id": "组织ID", "org_ids": "组织",
    "member_id": "党员ID", "member_ids": "党员", "branch_id": "支部ID", "notice_id": "通知ID",
    "activity_id": "活动ID", "venue_id": "场地ID", "specialist_id": "专员ID", "kind": "类型", "status": "状态",
    "health": "健康状况", "lives_alone": "是否独居", "has_specialist": "是否有专员", "name": "姓名", "page": "页码",
    "page_size": "每页条数", "order": "排序", "x-role": "调用者角色", "x-org-id": "调用者组织", "body": "请求体",
    "type": "消息类型", "schema_version": "消息版本", "data": "消息内容", "id": "消息ID", "level": "级别",
    "gender": "性别", "birth_date": "出生日期", "joined_party_on": "入党日期", "registered_on": "登记日期",
    "retired_on": "退休日期", "phone": "电话", "email": "电子邮箱", "monthly_pension": "月养老金", "amount": "金额",
    "hours": "小时数", "from": "开始日期", "until": "结束日期", "from_month": "起始月份", "to_month": "截止月份",
    "months": "月份", "paid_on": "缴纳日期", "held_on": "举行日期", "starts_at": "开始时间", "ends_at": "结束时间",
    "title": "标题", "minutes": "会议记录", "attendance": "出席情况", "parent_id": "上级组织ID",
    "to_branch_id": "转入支部ID", "location": "地点", "reason": "原因", "stars": "星级", "award_id": "奖项ID",
    "category": "类别", "subject_id": "对象ID", "payment_id": "缴费ID", "visit_id": "走访ID", "entry_id": "记录ID",
    "team": "志愿服务队", "channel": "渠道", "audience": "发送对象", "occurred_at": "发生时间", "source": "来源",
    "district": "区", "has_committee": "是否设支委会", "party_groups": "党小组数",
}
PERIOD_FORMAT = "应为 YYYY-MM、YYYY-Qn 或 YYYY，如 2026-03、2026-Q1、2026"


def _list(expected: str) -> str:
    return "、".join(x.strip().strip("'\"") for x in re.split(r",| or ", expected) if x.strip())


# pydantic's templates (and our own messages), in the order they are tried.
_TEMPLATES: list[tuple[re.Pattern, object]] = [(re.compile(p), f) for p, f in [
    (r"^Field required$", "缺少此项"),
    (r"^Extra inputs are not permitted$", "不接受此项"),
    (r"^Input should be a valid integer", "应为整数"),
    (r"^Input should be a valid number", "应为数字"),
    (r"^Input should be a valid decimal", "应为十进制数字字符串，如 \"24.00\""),
    (r"^Input should be a valid boolean", "应为 true 或 false"),
    (r"^Input should be a valid string", "应为文本"),
    (r"^Input should be a valid date", "应为日期 YYYY-MM-DD，如 2026-03-31"),
    (r"^Datetimes provided to dates", "应为日期 YYYY-MM-DD，不带时间"),
    (r"^Input should be a valid datetime", "应为带时区的时间（RFC 3339），如 2026-03-31T09:00:00+08:00"),
    (r"^Input should be a valid (dictionary|object)", "应为对象"),
    (r"^Input should be a valid list", "应为列表"),
    (r"^Input should be an? (.*) instance", "类型不正确"),
    (r"^Input should be greater than or equal to (.+)$", lambda m: f"不能小于 {m[1]}"),
    (r"^Input should be less than or equal to (.+)$", lambda m: f"不能大于 {m[1]}"),
    (r"^Input should be greater than (.+)$", lambda m: f"应大于 {m[1]}"),
    (r"^Input should be less than (.+)$", lambda m: f"应小于 {m[1]}"),
    (r"^Input should be ('.*')$", lambda m: f"应为以下之一：{_list(m[1])}"),
    (r"^String should have at least (\d+) characters?$", lambda m: f"至少 {m[1]} 个字符"),
    (r"^String should have at most (\d+) characters?$", lambda m: f"最多 {m[1]} 个字符"),
    (r"^String should match pattern", "格式不正确"),
    (r"^(List|Tuple|Set) should have at least (\d+) items?", lambda m: f"至少 {m[2]} 项"),
    (r"^(List|Tuple|Set) should have at most (\d+) items?", lambda m: f"最多 {m[2]} 项"),
    (r"^JSON decode error|^Invalid JSON|^not JSON", "不是有效的 JSON"),
    (r"^period must be YYYY-MM, YYYY-Qn or YYYY", PERIOD_FORMAT),
    # the contract's own checks (shared/contracts)
    (r"^must be a date written YYYY-MM-DD", "应为日期 YYYY-MM-DD，如 2026-03-31"),
    (r"^must be a month written YYYY-MM", "应为月份 YYYY-MM，如 2026-03"),
    (r"^must be an amount written as a decimal string", "应为金额字符串，如 \"24.00\"（不能是 JSON 数字）"),
    (r"^must be hours written as a decimal string", "应为小时数字符串，如 \"2.5\"（不能是 JSON 数字）"),
    (r"^an id must not begin with '\$'", "编号不能以 $ 开头"),
    (r"^an id must not contain '\.'", "编号不能含有“.”"),
    (r"^an id must not contain control characters|^a message id must not contain control", "编号不能含有控制字符"),
    (r"^an id must not contain whitespace", "编号不能含有空白字符"),
    (r"^ends_at must come after starts_at", "结束时间应晚于开始时间"),
    (r"^branch_ids names a branch twice", "同一支部出现了两次"),
    (r"^a district has no parent_id", "区级组织没有上级组织"),
    (r"^parent_id is required for an? (\w+)", "缺少上级组织"),
    (r"^only a branch has a committee or party groups", "只有支部设支委会或党小组"),
    (r"^the audience names no org and no member", "请至少指定一个组织或一名党员"),
    (r"^no usable envelope \((.*)\)", lambda m: f"不是有效的消息信封（{m[1]} 缺少或无效）"),
    (r"^not a JSON object", "应为 JSON 对象"),
    (r"^unknown message type '?([^']*)'?", lambda m: f"未知的消息类型 {m[1]}"),
    (r"^schema_version (\S+) of (\S+) is not supported \(known: (.*)\)",
     lambda m: f"{m[2]} 不支持版本 {m[1]}（支持：{m[3]}）"),
]]


def reason(message: str) -> str:
    """The Chinese for one validation message; a message no template knows is kept, marked as
    an invalid value (it came from a check of ours that says what it wants)."""
    text = message.removeprefix("Value error, ")
    if re.search(r"[\u4e00-\u9fff]", text):  # already Chinese
        return text
    for pattern, out in _TEMPLATES:
        m = pattern.search(text)
        if m:
            return out(m) if callable(out) else out
    return f"取值无效（{text}）"


def field_label(field: str) -> str:
    """"统计期（period）", "支部ID（data.branch_id）": the words and the machine name of a field."""
    last = field.rsplit(".", 1)[-1]
    if last.isdigit() and "." in field:  # data.branch_ids.1: the list's name
        last = field.rsplit(".", 2)[-2]
    words = FIELD_LABELS.get(last) or FIELD_LABELS.get(last.removesuffix("s"))
    return f"{words}（{field}）" if words else field


def chinese(field: str, message: str) -> str:
    return f"{field_label(field)}：{reason(message)}"


NOT_FOUND_WHAT = {"organisation": "组织", "member": "党员", "notice": "通知", "branch": "支部", "activity": "活动",
                  "venue": "场地", "specialist": "专员", "applicant": "入党申请人", "training": "培训", "team": "志愿服务队",
                  "request": "服务诉求"}
STATUS_TEXTS = {400: "请求有误", 401: "未登录或登录已失效", 403: "无权访问", 404: "未找到", 405: "不支持此请求方法",
                409: "与现有数据冲突", 413: "请求过大", 415: "不支持的内容类型", 500: "服务器内部错误",
                503: "服务暂不可用"}
