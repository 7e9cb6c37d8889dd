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


def establish(existing: Organization | None, parent: Organization | None, *, org_id: str, name: str,
              kind: str, parent_id: str | None, has_committee: bool, party_groups: int) -> Organization:
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
                        party_groups=party_groups)


def require_branch(branch: Organization | None, branch_id: str, field_name: str) -> Organization:
    if branch is None:
        raise unknown_reference(f"branch {branch_id} is not a known organisation", field_name)
    branch.require_open_branch(field_name)
    return branch


__all__ = ["Organization", "establish", "require_branch", "Rejected"]
