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
    "transfer_suggested": "建议转移组织关系", "term_overdue": "支委会换届逾期", "post_vacant": "支委职务空缺超期",
    "secretary_untrained": "书记年度未参加培训",
}
POST_LABELS = {"secretary": "书记", "deputy_secretary": "副书记", "organization_member": "组织委员",
               "propaganda_member": "宣传委员", "discipline_member": "纪检委员"}
