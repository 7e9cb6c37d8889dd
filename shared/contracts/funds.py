"""members.commands and members.events of a branch's funds (issue 13, item 3): 返缴党费 (dues
returned to the branch by the organisation department) and other funding received, and what the
branch spends, per activity (活动经费).

Keyed by `branch_id`: a branch's entries are handled in the order they were sent, so the balance
each event carries is the one after that entry. An `activity_id` is an opaque reference to the
activities service's activity: the members service does not check it (the activity may still be
on its way), reporting joins it to the activity's title when it knows it.
"""
from typing import ClassVar

from pydantic import Field

from shared.contracts.codes import FundSource
from shared.contracts.members import _MemberCommand, _MemberEvent
from shared.contracts.types import Day, Id, Money, Name


class _FundsCommand(_MemberCommand):
    ABSTRACT: ClassVar[bool] = True
    KEY: ClassVar[str] = "branch_id"

class _FundsEvent(_MemberEvent):
    ABSTRACT: ClassVar[bool] = True
    KEY: ClassVar[str] = "branch_id"

class RecordBranchFunds(_FundsCommand):
    """Money the branch received: dues returned (返缴党费) or other funding."""

    entry_id: Id
    branch_id: Id
    source: FundSource
    amount: Money
    received_on: Day
    for_year: int | None = Field(default=None, ge=1921, le=2200,
                                 description="the year of the dues returned (返缴党费所属年度), optional")
    note: str | None = Field(default=None, max_length=500)

class RecordBranchSpending(_FundsCommand):
    """Money the branch spent, on an activity (活动经费) or on something else (`activity_id` null)."""

    entry_id: Id
    branch_id: Id
    amount: Money
    spent_on: Day
    purpose: Name
    activity_id: Id | None = None
    note: str | None = Field(default=None, max_length=500)

class BranchFundsReceived(_FundsEvent):
    entry_id: Id
    branch_id: Id
    source: FundSource
    amount: Money
    received_on: Day
    for_year: int | None = None
    note: str | None = None
    balance: Money  # the branch's balance over all its entries, after this one

class BranchSpendingRecorded(_FundsEvent):
    entry_id: Id
    branch_id: Id
    amount: Money
    spent_on: Day
    purpose: str
    activity_id: Id | None = None
    note: str | None = None
    balance: Money  # after this entry; negative when the branch spent more than it had
    overdrawn: bool = False
