"""members.commands and members.events of the way into the Party (发展党员, issue 13, item 5): a
person's application (入党申请人), then activist (入党积极分子), development target (发展对象),
probationary member (预备党员) and full member (转正), with the day of each stage and the members
responsible for them (培养联系人). The 最美入党积极分子 award draws its candidates from here.

Keyed by `applicant_id`: one person's stages are handled in the order they were sent. An applicant
is not (yet) a member of the ledger; their id is their own.
"""
from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.base import Loose
from shared.contracts.codes import ApplicantStage, Gender
from shared.contracts.members import _MemberCommand, _MemberEvent
from shared.contracts.types import Day, Id, Name


class _ApplicantCommand(_MemberCommand):
    ABSTRACT: ClassVar[bool] = True
    KEY: ClassVar[str] = "applicant_id"


class _ApplicantEvent(_MemberEvent):
    ABSTRACT: ClassVar[bool] = True
    KEY: ClassVar[str] = "applicant_id"


class RecordPartyApplication(_ApplicantCommand):
    """A written application to join the Party, received by a branch (入党申请书)."""

    applicant_id: Id
    branch_id: Id
    name: Name
    gender: Gender
    birth_date: Day
    applied_on: Day
    note: str | None = Field(default=None, max_length=500)


class AdvanceApplicant(_ApplicantCommand):
    """The next stage, decided on `on`; an activist needs one or two responsible members (培养联系人),
    who may be changed at any later stage by naming them again."""

    applicant_id: Id
    stage: Literal["activist", "development_target", "probationary", "full_member"]
    on: Day
    contact_ids: list[Id] = Field(default_factory=list, max_length=2)
    note: str | None = Field(default=None, max_length=500)


class SetBackApplicant(_ApplicantCommand):
    """Back to an earlier stage, or out of the way (`withdrawn`: 取消资格, or the applicant withdrew),
    always with the reason."""

    applicant_id: Id
    stage: Literal["applicant", "activist", "development_target", "withdrawn"]
    on: Day
    reason: str = Field(min_length=2, max_length=500)


class Contact(Loose):
    member_id: Id
    member_name: str | None = None


class PartyApplicationRecorded(_ApplicantEvent):
    applicant_id: Id
    branch_id: Id
    name: str
    gender: Gender
    birth_date: Day
    applied_on: Day
    seq: int = 0  # the applicant's changes, counted: orders two changes of one day


class ApplicantAdvanced(_ApplicantEvent):
    applicant_id: Id
    branch_id: Id
    name: str
    stage: ApplicantStage
    previous_stage: ApplicantStage
    on: Day
    contacts: list[Contact] = Field(default_factory=list)
    probation_ends_on: Day | None = None  # a probationary member's year (预备期)
    seq: int = 0


class ApplicantSetBack(_ApplicantEvent):
    applicant_id: Id
    branch_id: Id
    name: str
    stage: ApplicantStage
    previous_stage: ApplicantStage
    on: Day
    reason: str
    seq: int = 0
