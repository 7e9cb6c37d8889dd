"""members.commands and members.events of a branch's leadership (issue 13): the branch committee
(支部委员会) and its elections (换届), the training of branch secretaries (培训), their yearly
assessment (书记考核) and monthly allowance (每月补助).

The committee's, the assessments' and the allowances' messages are keyed by `branch_id`, so a
branch's posts, payments and rates change in the order they were sent; a training session's by
`session_id`.
"""
from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.base import Loose, Strict
from shared.contracts.codes import AssessmentResult, CommitteePost, ElectionKind, PostLeftReason
from shared.contracts.members import _MemberCommand, _MemberEvent
from shared.contracts.types import Day, Hours, Id, Money, Month, Name


class _BranchCommand(_MemberCommand):
    ABSTRACT: ClassVar[bool] = True
    KEY: ClassVar[str] = "branch_id"


class _BranchEvent(_MemberEvent):
    ABSTRACT: ClassVar[bool] = True
    KEY: ClassVar[str] = "branch_id"


# ---- the committee and its elections --------------------------------------------------------

class AppointCommitteeMember(_BranchCommand):
    """Appoint a member of the branch to a post of its committee from a day (the previous holder
    of the post, if any, leaves it that day)."""

    branch_id: Id
    member_id: Id
    post: CommitteePost
    on: Day


class RemoveCommitteeMember(_BranchCommand):
    """A post's holder leaves it (resigned, dismissed…); the post stays empty until filled."""

    branch_id: Id
    post: CommitteePost
    on: Day
    reason: Literal["resigned", "dismissed", "other"]
    note: str | None = Field(default=None, max_length=500)


class ElectedMember(Strict):
    member_id: Id
    post: CommitteePost
    votes: int = Field(ge=0, le=100000)


class RecordElection(_BranchCommand):
    """An election held by the branch assembly: a general election (换届) elects the whole
    committee for a new term; a by-election (补选) fills empty posts within the term."""

    election_id: Id
    branch_id: Id
    held_on: Day
    kind: ElectionKind
    eligible: int = Field(ge=1, le=100000, description="members entitled to vote (应到会)")
    present: int = Field(ge=0, le=100000, description="of whom present (实到会)")
    elected: list[ElectedMember] = Field(min_length=1, max_length=20)
    term_years: int = Field(default=5, ge=1, le=5, description="a general election's term")


class CommitteeMemberAppointed(_BranchEvent):
    """A member holds a post from `on` (by appointment, or elected when `election_id` is set)."""

    branch_id: Id
    post: CommitteePost
    member_id: Id
    member_name: str | None = None
    on: Day
    previous_member_id: Id | None = None
    election_id: Id | None = None


class CommitteeMemberRemoved(_BranchEvent):
    """A member no longer holds a post from `on`; the post is empty until a new appointment."""

    branch_id: Id
    post: CommitteePost
    member_id: Id
    member_name: str | None = None
    on: Day
    reason: PostLeftReason


class ElectedLine(Loose):
    member_id: Id
    member_name: str | None = None
    post: CommitteePost
    votes: int


class ElectionRecorded(_BranchEvent):
    """The election and its result. The line-up's changes follow as CommitteeMemberRemoved and
    CommitteeMemberAppointed events (and SecretaryAppointed when the secretary changes)."""

    election_id: Id
    branch_id: Id
    held_on: Day
    kind: ElectionKind
    eligible: int
    present: int
    elected: list[ElectedLine]
    # The term the election began (general) or falls in (by-election; null when none is known).
    term_started_on: Day | None = None
    term_ends_on: Day | None = None


# ---- training of branch secretaries (培训) ------------------------------------------------------

class _SessionCommand(_MemberCommand):
    ABSTRACT: ClassVar[bool] = True
    KEY: ClassVar[str] = "session_id"


class _SessionEvent(_MemberEvent):
    ABSTRACT: ClassVar[bool] = True
    KEY: ClassVar[str] = "session_id"


class RecordTrainingSession(_SessionCommand):
    """A training session held (for branch secretaries, by the district, a subdistrict or a
    community), with the members who attended it."""

    session_id: Id
    title: Name
    held_on: Day
    org_id: Id = Field(description="the organisation that held it")
    hours: Hours
    attendee_ids: list[Id] = Field(default_factory=list, max_length=1000)


class RecordTrainingAttendance(_SessionCommand):
    """A member who attended a recorded session, added later."""

    session_id: Id
    member_id: Id


class Trainee(Loose):
    member_id: Id
    member_name: str | None = None
    branch_id: Id
    posts: list[CommitteePost] = Field(default_factory=list)  # the posts held on the session's day


class TrainingSessionRecorded(_SessionEvent):
    session_id: Id
    title: str
    held_on: Day
    org_id: Id
    hours: Hours
    attendees: list[Trainee] = Field(default_factory=list)


class TrainingAttendanceRecorded(_SessionEvent):
    session_id: Id
    title: str
    held_on: Day
    hours: Hours
    attendee: Trainee


# ---- the secretary's assessment and allowance (书记考核, 每月补助) ----------------------------------

class RecordSecretaryAssessment(_BranchCommand):
    """The yearly assessment of a member who was the branch's secretary during that year."""

    branch_id: Id
    member_id: Id
    year: int = Field(ge=1921, le=2200)
    result: AssessmentResult
    comment: str | None = Field(default=None, max_length=500)


class SecretaryAssessed(_BranchEvent):
    branch_id: Id
    member_id: Id
    member_name: str | None = None
    year: int
    result: AssessmentResult
    replaces: AssessmentResult | None = None  # the result this one replaced (the same year and member)


class SetSecretaryAllowance(_BranchCommand):
    """The branch secretary's monthly allowance from a month on (0: none from then)."""

    branch_id: Id
    from_month: Month
    monthly_amount: Money


class SecretaryAllowanceSet(_BranchEvent):
    branch_id: Id
    from_month: Month
    monthly_amount: Money
    previous_amount: Money | None = None  # the rate in effect in `from_month` before


class RecordAllowancePayment(_BranchCommand):
    """The allowance paid to a secretary for the months `from_month`–`to_month` (at most 12)."""

    payment_id: Id
    branch_id: Id
    member_id: Id
    from_month: Month
    to_month: Month
    amount: Money
    paid_on: Day


class AllowanceMonth(Loose):
    month: Month
    amount: Money


class AllowancePaid(_BranchEvent):
    payment_id: Id
    branch_id: Id
    member_id: Id
    member_name: str | None = None
    from_month: Month
    to_month: Month
    months: list[AllowanceMonth]  # each month paid and its allowance (the amount is their sum)
    amount: Money
    paid_on: Day
