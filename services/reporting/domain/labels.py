"""Chinese labels of the machine codes reporting shows (codes are stored, labels displayed)."""
KIND_LABELS = {
    "branch_assembly": "支部党员大会", "committee_meeting": "支部委员会会议", "group_meeting": "党小组会",
    "party_lecture": "党课", "themed_party_day": "主题党日", "org_life_meeting": "组织生活会",
    "democratic_evaluation": "民主评议党员",
}
STATUS_LABELS = {"resident": "在住", "away": "外出", "exempt": "免于参加", "transferred": "已转出", "deceased": "已去世"}
ALERT_LABELS = {
    "dues_arrears": "欠缴党费", "no_participation": "未参加组织生活", "missed_meetings": "组织生活未按期开展",
    "not_visited": "超期未走访", "branch_too_small": "正式党员不足3人", "no_secretary": "未配备书记",
    "transfer_suggested": "建议转移组织关系",
}
