"""Who is a registered member of a branch on a given day (contract: report definitions)."""
from dataclasses import dataclass, field


@dataclass
class Stint:
    """A period during which a member belonged to a branch."""

    branch_id: str
    path: list[str]  # the branch's ancestors and the branch itself
    start: str  # ISO date, inclusive
    end: str | None = None  # ISO date the member left (transfer, merge), exclusive


@dataclass
class MemberFacts:
    member_id: str
    stints: list[Stint] = field(default_factory=list)
    died_on: str | None = None

    def branch_on(self, day: str) -> Stint | None:
        """The stint that holds on `day`, if the member is registered (and alive) then."""
        if self.died_on is not None and self.died_on <= day:
            return None
        for s in self.stints:
            if s.start <= day and (s.end is None or day < s.end):
                return s
        return None


def is_registered_in(member: MemberFacts, org_id: str, day: str) -> bool:
    stint = member.branch_on(day)
    return stint is not None and org_id in stint.path
