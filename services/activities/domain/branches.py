"""What activities keeps of members.events: a read-only projection for the planner and displays.

- branches: name, place in the tree, `has_committee` and `party_groups` (they decide which
  meetings are required) and whether the branch was merged into another;
- members: name, branch and whether they are still on a branch's roll, to show attendance by
  name.
Commands never depend on it: attendance, visits and hours for a member (or an activity for a
branch) this service has not heard of are accepted, since members.events may lag behind.
"""
from dataclasses import dataclass, field


@dataclass
class Branch:
    branch_id: str
    name: str = ""
    parent_id: str | None = None
    ancestors: list[str] = field(default_factory=list)
    has_committee: bool = False
    party_groups: int = 0
    established: bool = False  # False while only a merge has been heard of
    merged_into: str | None = None
    merged_on: str | None = None


@dataclass
class MemberView:
    member_id: str
    name: str = ""
    branch_id: str | None = None
    on_roll: bool = True  # False once deceased or transferred out of the district
    specialist_id: str | None = None  # their one-to-one specialist: whose visits they are (issue 12)


def establish(existing: Branch | None, *, branch_id: str, name: str, parent_id: str | None, ancestors: list[str],
              has_committee: bool, party_groups: int) -> Branch:
    b = existing or Branch(branch_id)
    b.name, b.parent_id, b.ancestors = name, parent_id, list(ancestors)
    b.has_committee, b.party_groups, b.established = has_committee, party_groups, True
    return b


def merge(existing: Branch | None, *, branch_id: str, into: str, on: str) -> Branch:
    b = existing or Branch(branch_id)
    b.merged_into, b.merged_on = into, on
    return b
