"""Chinese labels of service requests and difficulties (issue 13): codes are stored, labels shown."""
SERVICES: dict[str, str] = {
    "party_papers": "党报党刊", "haircut": "义务理发", "health_check": "健康体检", "stair_cleaning": "楼道清扫",
    "mediation": "矛盾调解（调解室）", "study_delivery": "送学上门", "medical_escort": "陪同就医", "shopping": "代购药品",
    "housekeeping": "家政服务", "meals": "助餐服务", "counselling": "心理慰藉", "legal_aid": "法律援助", "other": "其他",
}
REQUEST_KINDS: dict[str, str] = {"service": "服务需求", "difficulty": "困难帮扶"}
REQUEST_SOURCES: dict[str, str] = {"visit": "专员走访发现", "member": "党员本人提出", "secretary": "支部书记提出"}
REQUEST_OUTCOMES: dict[str, str] = {"resolved": "已解决", "referred": "已转介", "declined": "无法办理"}
REQUEST_STATUSES: dict[str, str] = {"open": "办理中", "overdue": "逾期未办结", "resolved": "已办结"}
