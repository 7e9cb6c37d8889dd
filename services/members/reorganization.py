"""The members service layer of 化并转 beyond a merge (issue 13): dissolve, move, change settings.
The handlers are part of the one table, `handlers.HANDLERS`."""
from services.members import leadership
from services.members.adapters.documents import MEMBER, ORGS, member_to_doc, org_to_doc
from services.members.domain import organization as orgs
from services.members.domain import reorganization as rules
from services.members.handling import org, save_member, save_org
from shared.contracts import reorganization as c
from shared.errors import unknown_reference
from shared.messaging.pipeline import Context, Handler


async def dissolve_branch(cmd: c.DissolveBranch, ctx: Context) -> None:
    branch = orgs.require_branch(await org(ctx, cmd.branch_id), cmd.branch_id, "data.branch_id")
    before = org_to_doc(branch)
    on = cmd.on.isoformat()
    rules.dissolve(branch, on=on)
    await leadership.dissolve_committee(ctx, branch, on=on)  # nobody is left; kept for a record set before
    save_org(ctx, before, branch)
    ctx.emit(c.BranchDissolved(branch_id=branch.org_id, on=cmd.on, reason=cmd.reason, ancestors=branch.ancestors))


async def move_branch(cmd: c.MoveBranch, ctx: Context) -> None:
    branch = orgs.require_branch(await org(ctx, cmd.branch_id), cmd.branch_id, "data.branch_id")
    community = await org(ctx, cmd.to_community_id)
    if community is None:
        raise unknown_reference(f"community {cmd.to_community_id} is not a known organisation", "data.to_community_id")
    before = org_to_doc(branch)
    from_parent, from_ancestors = rules.move(branch, community, on=cmd.on.isoformat())
    save_org(ctx, before, branch)
    await ctx.repo(MEMBER).prefetch(branch.member_ids)
    for member_id in branch.member_ids:  # their place in the tree (the callers' scopes) moves too
        m = await ctx.repo(MEMBER).get(member_id)
        if m is not None:
            m_before = member_to_doc(m)
            m.org_path = branch.path
            save_member(ctx, m_before, m)
    ctx.emit(c.BranchMoved(branch_id=branch.org_id, on=cmd.on, from_community_id=from_parent,
                           to_community_id=community.org_id, from_ancestors=from_ancestors, ancestors=branch.ancestors,
                           member_ids=list(branch.member_ids)))


async def change_settings(cmd: c.ChangeBranchSettings, ctx: Context) -> None:
    branch = orgs.require_branch(await org(ctx, cmd.branch_id), cmd.branch_id, "data.branch_id")
    before = org_to_doc(branch)
    was = rules.change_settings(branch, on=cmd.on.isoformat(), has_committee=cmd.has_committee,
                                party_groups=cmd.party_groups)
    save_org(ctx, before, branch)
    ctx.emit(c.BranchSettingsChanged(branch_id=branch.org_id, on=cmd.on, has_committee=branch.has_committee,
                                     party_groups=branch.party_groups, previous_has_committee=was[0],
                                     previous_party_groups=was[1]))


HANDLERS: dict[str, Handler] = {
    "DissolveBranch": Handler(dissolve_branch, lambda m: [(ORGS, m.branch_id)]),
    "MoveBranch": Handler(move_branch, lambda m: [(ORGS, m.branch_id), (ORGS, m.to_community_id)]),
    "ChangeBranchSettings": Handler(change_settings, lambda m: [(ORGS, m.branch_id)]),
}
