"""化并转 beyond a merge (issue 13): dissolve a branch, move it to another community, change its
committee and party groups later.

- A branch is dissolved (撤销) only once it has no members: its members are transferred (or the
  branch merged) first, so that nobody is left without a branch. It then takes no members and no
  commands, like a merged branch.
- A moved branch (转) keeps its members, committee and history; its place in the tree changes from
  `on`, and with it the place of its members.
- A branch without a committee keeps only its secretary and deputy: turning the committee off is
  refused while another post is held (remove those members from their posts first).
"""
from services.members.domain import committee
from services.members.domain.organization import Organization
from shared.errors import conflict, invalid, not_allowed

KEPT_WITHOUT_COMMITTEE = ("secretary", "deputy_secretary")


def dissolve(branch: Organization, *, on: str) -> None:
    if branch.member_ids:
        raise not_allowed(f"branch {branch.org_id} still has {len(branch.member_ids)} members: transfer them (or merge "
                          "the branch into another) before dissolving it", "data.branch_id")
    committee.dissolve(branch, on=on)
    branch.secretary_id = None
    branch.dissolved_on = on


def move(branch: Organization, community: Organization, *, on: str) -> tuple[str, list[str]]:
    """The community left and the path above the branch before the move."""
    if community.kind != "community":
        raise invalid(f"{community.org_id} is a {community.kind}: a branch belongs to a community",
                      "data.to_community_id")
    if community.org_id == branch.parent_id:
        raise invalid(f"branch {branch.org_id} already belongs to {community.org_id}", "data.to_community_id")
    if community.merged_into or getattr(community, "dissolved_on", None):
        raise not_allowed(f"community {community.org_id} is closed", "data.to_community_id")
    before = (branch.parent_id, list(branch.ancestors))
    branch.parent_id, branch.ancestors = community.org_id, community.path
    branch.moves.append({"on": on, "from_parent_id": before[0], "to_parent_id": community.org_id})
    return before


def change_settings(branch: Organization, *, on: str, has_committee: bool | None,
                    party_groups: int | None) -> tuple[bool, int]:
    """The settings before the change."""
    before = (branch.has_committee, branch.party_groups)
    new_committee = before[0] if has_committee is None else has_committee
    new_groups = before[1] if party_groups is None else party_groups
    if (new_committee, new_groups) == before:
        raise conflict(f"branch {branch.org_id} already has these settings", "data")
    if before[0] and not new_committee:
        held = sorted(p for p in committee.line_up(branch, on) if p not in KEPT_WITHOUT_COMMITTEE)
        if held:
            raise conflict(f"without a committee only the secretary and the deputy remain: remove the holders of "
                           f"{', '.join(held)} first", "data.has_committee")
    branch.has_committee, branch.party_groups = new_committee, new_groups
    branch.settings_history.append({"on": on, "has_committee": new_committee, "party_groups": new_groups,
                                    "previous_has_committee": before[0], "previous_party_groups": before[1]})
    return before
