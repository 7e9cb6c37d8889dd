"""Machine codes of the contract, stored as is; Chinese labels live in `shared.labels`."""
from typing import Literal

OrgKind = Literal["district", "subdistrict", "town", "community", "branch"]
Gender = Literal["male", "female"]
Channel = Literal["sms", "wechat", "email", "phone_call", "door"]
Health = Literal["good", "fair", "poor", "bedridden"]
AwayReason = Literal["seasonal", "family", "medical", "work", "other"]
EvaluationResult = Literal["excellent", "qualified", "basically_qualified", "unqualified"]
AwardCategory = Literal[
    "five_good_branch", "model_branch", "best_old_member", "best_activist", "best_secretary",
    "best_volunteer",
]
OrgLifeKind = Literal[
    "branch_assembly", "committee_meeting", "group_meeting", "party_lecture", "themed_party_day",
    "org_life_meeting", "democratic_evaluation",
]
ActivityKind = Literal[
    "branch_assembly", "committee_meeting", "group_meeting", "party_lecture", "themed_party_day",
    "org_life_meeting", "democratic_evaluation", "study", "volunteer_service", "cultural",
    "convenience_service",
]
AttendanceStatus = Literal["present", "leave", "absent"]
AttendanceMode = Literal["in_person", "remote", "home_delivery"]
VisitKind = Literal["home", "phone"]
NoticeCategory = Literal["document", "meeting", "study", "reminder", "greeting"]
RejectionReason = Literal["invalid", "unknown_reference", "conflict", "duplicate", "not_allowed"]
MemberStatus = Literal["resident", "away", "exempt", "transferred", "deceased"]
AlertKind = Literal[
    "dues_arrears", "no_participation", "missed_meetings", "not_visited", "branch_too_small",
    "no_secretary", "transfer_suggested", "term_overdue", "post_vacant", "secretary_untrained",
    "request_overdue",
]
AlertLevel = Literal["info", "warning", "alert"]
# The branch committee (支部委员会): 书记、副书记、组织委员、宣传委员、纪检委员.
CommitteePost = Literal["secretary", "deputy_secretary", "organization_member", "propaganda_member",
                        "discipline_member"]
ElectionKind = Literal["general", "by_election"]  # 换届选举 · 补选
# Why a member left a post: told by a command, or the consequence of another fact.
PostLeftReason = Literal["resigned", "dismissed", "other", "left_branch", "died", "merged", "term_ended"]
# 书记考核: the yearly assessment of a branch secretary.
AssessmentResult = Literal["excellent", "competent", "basically_competent", "incompetent"]

ORG_LIFE_KINDS: tuple[str, ...] = OrgLifeKind.__args__  # type: ignore[attr-defined]
COMMITTEE_POSTS: tuple[str, ...] = CommitteePost.__args__  # type: ignore[attr-defined]
# 三会一课: the first four kinds of organisational life.
SAN_HUI_YI_KE: tuple[str, ...] = ORG_LIFE_KINDS[:4]
