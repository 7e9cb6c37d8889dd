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
    "funds_overdrawn", "probation_overdue", "request_overdue",
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
# 返缴党费 and other funding of a branch (issue 13): dues returned, the higher organisation, the
# community, a donation, other.
FundSource = Literal["dues_returned", "higher_level", "community", "donation", "other"]
# Remote study (远程学习, issue 13): the district's "红色X" platform and 学习强国.
StudyPlatform = Literal["red_x", "xuexi"]
STUDY_PLATFORMS: tuple[str, ...] = StudyPlatform.__args__  # type: ignore[attr-defined]
# The way into the Party (发展党员, issue 13): 入党申请人, 入党积极分子, 发展对象, 预备党员, 正式党员, or
# out of the way (取消资格 / withdrawn).
ApplicantStage = Literal["applicant", "activist", "development_target", "probationary", "full_member", "withdrawn"]
APPLICANT_STAGES: tuple[str, ...] = ApplicantStage.__args__  # type: ignore[attr-defined]
