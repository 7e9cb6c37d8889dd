"""The organisation tree (组织体系): district → subdistrict/town → community → branch."""
from dataclasses import dataclass, field

from shared.errors import Rejected, duplicate, invalid, not_allowed, unknown_reference

# Which kind of parent each kind hangs under.
PARENT_KINDS: dict[str, tuple[str, ...]] = {
    "district": (),
    "subdistrict": ("district",),
    "town": ("district",),
    "community": ("subdistrict", "town"),
    "branch": ("community",),
}
MIN_BRANCH_MEMBERS = 3  # below this a branch should be merged, dissolved or transferred (化并转)
COMMITTEE_THRESHOLD = 7  # a branch of 7 or more elects a committee


@dataclass
class Organization:
    org_id: str
    name: str
    kind: str
    parent_id: str | None
    ancestors: list[str] = field(default_factory=list)  # district first, parent last
    has_committee: bool = False
    party_groups: int = 0
    secretary_id: str | None = None
    merged_into: str | None = None
    merged_on: str | None = None
    established_on: str | None = None
    # Current members of a branch (not dead, not gone): a merge must find them without a query.
    member_ids: list[str] = field(default_factory=list)
    ratings: list[dict] = field(default_factory=list)  # {year, stars, on}
    awards: list[dict] = field(default_factory=list)  # {award_id, year, category}
    # The committee (domain/committee.py): who held which post when, elections, the current term.
    committee_history: list[dict] = field(default_factory=list)  # {post, member_id, from, until, ...}
    elections: list[dict] = field(default_factory=list)  # {election_id, held_on, kind, ..., elected}
    term: dict | None = None  # {election_id, started_on, ends_on, years}
    # The secretary's assessments and allowance ledger (domain/secretary.py).
    assessments: list[dict] = field(default_factory=list)  # {year, member_id, result, on, current, comment}
    allowance_rates: list[dict] = field(default_factory=list)  # {from_month, amount}
    allowance_payments: list[dict] = field(default_factory=list)  # {payment_id, member_id, months, amount, paid_on}
    # 化并转 (domain/reorganization.py): dissolved, moved, settings changed (issue 13).
    dissolved_on: str | None = None
    moves: list[dict] = field(default_factory=list)  # {on, from_parent_id, to_parent_id}
    settings_history: list[dict] = field(default_factory=list)  # {on, has_committee, party_groups, previous_…}

    @property
    def path(self) -> list[str]:
        return [*self.ancestors, self.org_id]

    @property
    def is_branch(self) -> bool:
        return self.kind == "branch"

    def require_open_branch(self, field_name: str) -> None:
        if not self.is_branch:
            raise invalid(f"{self.org_id} is a {self.kind}, not a branch", field_name)
        if self.merged_into:
            raise not_allowed(f"branch {self.org_id} was merged into {self.merged_into}", field_name)
        if self.dissolved_on:
            raise not_allowed(f"branch {self.org_id} was dissolved on {self.dissolved_on}", field_name)

    def admit(self, member_id: str) -> None:
        if member_id not in self.member_ids:
            self.member_ids.append(member_id)

    def release(self, member_id: str) -> bool:
        """Take a member off the roster; True when that left the branch without its secretary."""
        if member_id in self.member_ids:
            self.member_ids.remove(member_id)
        if self.secretary_id == member_id:
            self.secretary_id = None
            return True
        return False


def establish(existing: Organization | None, parent: Organization | None, *, org_id: str, name: str,
              kind: str, parent_id: str | None, has_committee: bool, party_groups: int,
              on: str | None = None) -> Organization:
    if existing is not None:
        raise duplicate(f"organisation {org_id} already exists", "data.org_id")
    allowed = PARENT_KINDS[kind]
    if parent_id is not None:
        if parent is None:
            raise unknown_reference(f"parent {parent_id} is not a known organisation", "data.parent_id")
        if parent.kind not in allowed:
            raise invalid(f"a {kind} cannot be placed under a {parent.kind}; it belongs under "
                          f"{' or '.join(allowed)}", "data.parent_id")
        if parent.merged_into:
            raise not_allowed(f"parent {parent_id} was merged", "data.parent_id")
    return Organization(org_id=org_id, name=name, kind=kind, parent_id=parent_id,
                        ancestors=parent.path if parent else [], has_committee=has_committee,
                        party_groups=party_groups, established_on=on)


def require_branch(branch: Organization | None, branch_id: str, field_name: str) -> Organization:
    if branch is None:
        raise unknown_reference(f"branch {branch_id} is not a known organisation", field_name)
    branch.require_open_branch(field_name)
    return branch


def rate(branch: Organization, *, year: int, stars: int, on: str) -> None:
    """The department's grading, one per branch per year, recorded as given."""
    if any(r["year"] == year for r in branch.ratings):
        given = next(r["stars"] for r in branch.ratings if r["year"] == year)
        raise duplicate(f"branch {branch.org_id} was already rated {given} stars for {year}", "data.year")
    branch.ratings.append({"year": year, "stars": stars, "on": on})


def merge(source: Organization, target: Organization, *, on: str) -> tuple[list[str], bool]:
    """化并: close `source` into `target`. Returns the members to move and whether the
    source's secretary post was vacated."""
    if source.org_id == target.org_id:
        raise invalid("a branch cannot be merged into itself", "data.into_branch_id")
    moving = list(source.member_ids)
    vacated = source.secretary_id is not None
    source.member_ids, source.secretary_id = [], None
    source.merged_into, source.merged_on = target.org_id, on
    for member_id in moving:
        target.admit(member_id)
    return moving, vacated


__all__ = ["Organization", "establish", "require_branch", "rate", "merge", "Rejected"]


def subtree_member_counts(branches: list[Organization], org_ids: list[str]) -> dict[str, int]:
    """Current members of each organisation's whole subtree: the rosters of the branches under it
    (a branch's own roster for a branch; a community or a district holds no members itself)."""
    return {o: sum(len(b.member_ids) for b in branches if o in b.path) for o in org_ids}
