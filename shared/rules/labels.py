"""Chinese display labels of the activity codes (codes are stored, labels are shown)."""
ACTIVITY_KINDS: dict[str, str] = {
    "branch_assembly": "支部党员大会",
    "committee_meeting": "支部委员会会议",
    "group_meeting": "党小组会",
    "party_lecture": "党课",
    "themed_party_day": "主题党日",
    "org_life_meeting": "组织生活会",
    "democratic_evaluation": "民主评议党员",
    "study": "学习",
    "volunteer_service": "志愿服务",
    "cultural": "文体活动",
    "convenience_service": "便民服务",
}
ACTIVITY_STATUSES: dict[str, str] = {"scheduled": "已安排", "held": "已举行", "cancelled": "已取消"}
ATTENDANCE_STATUSES: dict[str, str] = {"present": "出席", "leave": "请假", "absent": "缺席"}
ATTENDANCE_MODES: dict[str, str] = {"in_person": "现场", "remote": "远程", "home_delivery": "送学上门"}
VISIT_KINDS: dict[str, str] = {"home": "入户走访", "phone": "电话联系"}
HEALTH: dict[str, str] = {"good": "良好", "fair": "一般", "poor": "较差", "bedridden": "卧床"}
PERS: dict[str, str] = {"month": "每月", "quarter": "每季度", "half_year": "每半年", "year": "每年"}
PLAN_STATUSES: dict[str, str] = {"not_required": "不作要求", "done": "已完成", "scheduled": "已安排待举行",
                                 "missing": "尚未安排"}
