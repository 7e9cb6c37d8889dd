"""members.commands and members.events of 化并转 beyond a merge (issue 13): a branch dissolved, a
branch moved to another community, a branch's committee and party groups changed. Keyed by
`branch_id`, so a branch's changes stay in order. (A merge is the contract's `MergeBranches`.)
"""
from typing import ClassVar

from pydantic import Field, model_validator

from shared.contracts.leadership import _BranchCommand, _BranchEvent
from shared.contracts.types import Day, Id


class DissolveBranch(_BranchCommand):
    """撤销: the branch closes on `on`. Refused while it has members: transfer (or merge) them first."""

    branch_id: Id
    on: Day
    reason: str = Field(min_length=1, max_length=500)


class MoveBranch(_BranchCommand):
    """转: the branch belongs to another community from `on` (its members, committee and history go with it)."""

    branch_id: Id
    to_community_id: Id
    on: Day


class ChangeBranchSettings(_BranchCommand):
    """The branch has (or no longer has) a committee, or another number of party groups, from `on`."""

    branch_id: Id
    on: Day
    has_committee: bool | None = None
    party_groups: int | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def _something(self):
        if self.has_committee is None and self.party_groups is None:
            raise ValueError("change has_committee, party_groups or both")
        return self


class BranchDissolved(_BranchEvent):
    branch_id: Id
    on: Day
    reason: str
    ancestors: list[Id] = Field(default_factory=list)


class BranchMoved(_BranchEvent):
    branch_id: Id
    on: Day
    from_community_id: Id
    to_community_id: Id
    from_ancestors: list[Id] = Field(default_factory=list)
    ancestors: list[Id] = Field(default_factory=list)  # the new path above the branch (district first)
    member_ids: list[Id] = Field(default_factory=list)  # its current members, who move with it


class BranchSettingsChanged(_BranchEvent):
    branch_id: Id
    on: Day
    has_committee: bool
    party_groups: int
    previous_has_committee: bool
    previous_party_groups: int
