"""members.commands and members.events."""
from typing import Any, ClassVar

from pydantic import Field, model_validator

from shared.contracts.base import Command, Event, Loose, Strict
from shared.contracts.codes import (
    AwardCategory, AwayReason, Channel, EvaluationResult, Gender, Health, MemberStatus, OrgKind,
)
from shared.contracts.types import Day, Id, Labels, Money, Month, Name
from shared.topics import MEMBERS_COMMANDS, MEMBERS_EVENTS


class _MemberCommand(Command):
    ABSTRACT: ClassVar[bool] = True
    TOPIC: ClassVar[str] = MEMBERS_COMMANDS
    KEY: ClassVar[str] = "member_id"


class _MemberEvent(Event):
    ABSTRACT: ClassVar[bool] = True
    TOPIC: ClassVar[str] = MEMBERS_EVENTS
    KEY: ClassVar[str] = "member_id"


# ---- commands -------------------------------------------------------------------------------

class EstablishOrganization(_MemberCommand):
    KEY: ClassVar[str] = "org_id"
    org_id: Id
    name: Name
    kind: OrgKind
    parent_id: Id | None = None
    has_committee: bool = False
    party_groups: int = Field(default=0, ge=0, le=100)

    @model_validator(mode="after")
    def _parent(self):
        if self.kind == "district" and self.parent_id is not None:
            raise ValueError("a district has no parent_id")
        if self.kind != "district" and self.parent_id is None:
            raise ValueError(f"parent_id is required for a {self.kind}")
        if self.kind != "branch" and (self.has_committee or self.party_groups):
            raise ValueError("only a branch has a committee or party groups")
        return self


class AppointSecretary(_MemberCommand):
    KEY: ClassVar[str] = "branch_id"
    branch_id: Id
    member_id: Id


class ProfileFields(Strict):
    """The fields of a member's profile that `UpdateMemberProfile` may change."""

    name: Name | None = None
    gender: Gender | None = None
    birth_date: Day | None = None
    joined_party_on: Day | None = None
    registered_on: Day | None = None
    retired_on: Day | None = None
    former_unit: str | None = Field(default=None, max_length=200)
    former_rank: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    wechat_openid: str | None = Field(default=None, max_length=128)
    email: str | None = Field(default=None, max_length=254)
    preferred_channel: Channel | None = None
    lives_alone: bool | None = None
    health: Health | None = None
    specialties: Labels | None = None
    service_needs: Labels | None = None
    monthly_pension: Money | None = None


class RegisterMember(_MemberCommand):
    member_id: Id
    name: Name
    gender: Gender
    birth_date: Day
    branch_id: Id
    joined_party_on: Day
    registered_on: Day | None = None  # default: the date of occurred_at
    retired_on: Day | None = None
    former_unit: str | None = Field(default=None, max_length=200)
    former_rank: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    wechat_openid: str | None = Field(default=None, max_length=128)
    email: str | None = Field(default=None, max_length=254)
    preferred_channel: Channel | None = None  # default: derived from the contacts given
    lives_alone: bool = False
    health: Health = "good"
    specialties: Labels = Field(default_factory=list)
    service_needs: Labels = Field(default_factory=list)
    monthly_pension: Money
    # The opening balance of a member brought over from paper records: months up to it are paid.
    dues_paid_through: Month | None = None


class UpdateMemberProfile(_MemberCommand):
    member_id: Id
    changes: dict[str, Any] = Field(min_length=1)


class TransferMember(_MemberCommand):
    member_id: Id
    on: Day
    to_branch_id: Id | None = None
    destination: str | None = Field(default=None, max_length=200)


class MarkMemberAway(_MemberCommand):
    member_id: Id
    from_: Day = Field(alias="from")
    until: Day | None = None
    location: str = Field(min_length=1, max_length=200)
    reason: AwayReason


class MarkMemberReturned(_MemberCommand):
    member_id: Id
    on: Day


class ExemptMember(_MemberCommand):
    member_id: Id
    from_: Day = Field(alias="from")
    until: Day | None = None
    reason: str = Field(min_length=1, max_length=500)


class RecordMemberDeath(_MemberCommand):
    member_id: Id
    on: Day


class RecordDuesPayment(_MemberCommand):
    payment_id: Id
    member_id: Id
    from_month: Month
    to_month: Month
    amount: Money
    paid_on: Day


class AssignSpecialist(_MemberCommand):
    member_id: Id
    specialist_id: Id
    specialist_name: Name
    specialist_phone: str | None = Field(default=None, max_length=32)


class RecordEvaluation(_MemberCommand):
    member_id: Id
    year: int = Field(ge=1921, le=2200)
    result: EvaluationResult


class RateBranch(_MemberCommand):
    KEY: ClassVar[str] = "branch_id"
    branch_id: Id
    year: int = Field(ge=1921, le=2200)
    stars: int = Field(ge=1, le=5)


class MergeBranches(_MemberCommand):
    KEY: ClassVar[str] = "from_branch_id"
    from_branch_id: Id
    into_branch_id: Id
    on: Day


class GrantAward(_MemberCommand):
    KEY: ClassVar[str] = "award_id"
    award_id: Id
    year: int = Field(ge=1921, le=2200)
    category: AwardCategory
    subject_id: Id


# ---- events ---------------------------------------------------------------------------------

class OrganizationEstablished(_MemberEvent):
    KEY: ClassVar[str] = "org_id"
    org_id: Id
    name: str
    kind: OrgKind
    parent_id: Id | None = None
    # Ids from the district down to the parent, so a consumer can place the org without a call.
    ancestors: list[Id] = Field(default_factory=list)
    has_committee: bool = False
    party_groups: int = 0


class SecretaryAppointed(_MemberEvent):
    KEY: ClassVar[str] = "branch_id"
    branch_id: Id
    member_id: Id
    member_name: str | None = None
    previous_member_id: Id | None = None


class MemberProfile(Loose):
    """What other services keep of a member (notifications' contacts, reporting's dates)."""

    name: str
    gender: Gender | None = None
    birth_date: Day | None = None
    joined_party_on: Day | None = None
    registered_on: Day | None = None
    retired_on: Day | None = None
    former_unit: str | None = None
    former_rank: str | None = None
    phone: str | None = None
    wechat_openid: str | None = None
    email: str | None = None
    preferred_channel: Channel = "door"
    lives_alone: bool = False
    health: Health = "good"
    specialties: list[str] = Field(default_factory=list)
    service_needs: list[str] = Field(default_factory=list)
    monthly_pension: Money | None = None


class PensionChange(Loose):
    """One entry of a member's pension history: the monthly pension from a date on. The dues
    of a year come from the pension in effect in January of that year."""

    from_: Day = Field(alias="from")
    amount: Money


class MemberRegistered(_MemberEvent):
    member_id: Id
    branch_id: Id
    ancestors: list[Id] = Field(default_factory=list)
    profile: MemberProfile
    status: MemberStatus = "resident"
    specialist_id: Id | None = None
    # Dues owed each month of `dues_year`, fixed from the pension (domain.md, dues).
    dues_year: int | None = None
    monthly_dues: Money | None = None
    pension_history: list[PensionChange] = Field(default_factory=list)
    # RegisterMember's opening balance (YYYY-MM): months up to it count as paid.
    dues_paid_through: Month | None = None


class MemberProfileUpdated(_MemberEvent):
    member_id: Id
    branch_id: Id
    changes: dict[str, Any]
    before: dict[str, Any] = Field(default_factory=dict)
    profile: MemberProfile
    dues_year: int | None = None
    monthly_dues: Money | None = None
    pension_history: list[PensionChange] = Field(default_factory=list)
    status: MemberStatus | None = None
    specialist_id: Id | None = None


class MemberTransferred(_MemberEvent):
    member_id: Id
    on: Day
    from_branch_id: Id
    to_branch_id: Id | None = None
    to_ancestors: list[Id] = Field(default_factory=list)
    destination: str | None = None
    left_district: bool = False
    merged: bool = False
    from_ancestors: list[Id] = Field(default_factory=list)
    # True when the member was the secretary of the branch left, which now has none.
    secretary_vacated: bool = False


class MemberMarkedAway(_MemberEvent):
    member_id: Id
    branch_id: Id
    from_: Day = Field(alias="from")
    until: Day | None = None
    location: str
    reason: AwayReason


class MemberReturned(_MemberEvent):
    member_id: Id
    branch_id: Id
    on: Day
    away_from: Day | None = None
    location: str | None = None


class MemberExempted(_MemberEvent):
    member_id: Id
    branch_id: Id
    from_: Day = Field(alias="from")
    until: Day | None = None
    reason: str


class MemberDied(_MemberEvent):
    member_id: Id
    branch_id: Id
    on: Day
    secretary_vacated: bool = False


class DuesPaid(_MemberEvent):
    payment_id: Id
    member_id: Id
    branch_id: Id
    from_month: Month
    to_month: Month
    months: list[Month]
    amount: Money
    paid_on: Day
    expected_amount: Money
    comparison: str  # under · exact · over
    already_paid_months: list[Month] = Field(default_factory=list)
    double_payment: bool = False  # some months were already covered by an earlier payment


class SpecialistAssigned(_MemberEvent):
    member_id: Id
    branch_id: Id
    specialist_id: Id
    specialist_name: str
    specialist_phone: str | None = None
    previous_specialist_id: Id | None = None


class EvaluationRecorded(_MemberEvent):
    member_id: Id
    branch_id: Id
    year: int
    result: EvaluationResult
    replaces: EvaluationResult | None = None


class BranchRated(_MemberEvent):
    KEY: ClassVar[str] = "branch_id"
    branch_id: Id
    year: int
    stars: int
    previous_stars: int | None = None


class BranchesMerged(_MemberEvent):
    KEY: ClassVar[str] = "from_branch_id"
    from_branch_id: Id
    into_branch_id: Id
    on: Day
    member_ids: list[Id] = Field(default_factory=list)
    into_ancestors: list[Id] = Field(default_factory=list)
    secretary_vacated: bool = False


class AwardGranted(_MemberEvent):
    KEY: ClassVar[str] = "award_id"
    award_id: Id
    year: int
    category: AwardCategory
    subject_id: Id
    subject_kind: str  # branch · member
    subject_name: str | None = None
