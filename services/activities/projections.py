"""Handlers of members.events: the branch and member projections (see domain/branches.py).

They run in their own pipeline and write only `branches` and `members`, which no command
handler writes, so the two pipelines never write the same document.
"""
from services.activities.adapters.documents import BRANCH, BRANCHES, MEMBER_VIEW, MEMBERS
from services.activities.domain import branches
from services.activities.domain.branches import MemberView
from shared.contracts import members as m
from shared.contracts import reorganization as rz
from shared.messaging.pipeline import Context, Handler


async def organization_established(ev: m.OrganizationEstablished, ctx: Context) -> None:
    if ev.kind != "branch":
        return  # the planner plans branches; the rest of the tree is members' business
    b = branches.establish(await ctx.repo(BRANCH).get(ev.org_id), branch_id=ev.org_id, name=ev.name,
                           parent_id=ev.parent_id, ancestors=ev.ancestors, has_committee=ev.has_committee,
                           party_groups=ev.party_groups)
    ctx.repo(BRANCH).add(b)


async def branches_merged(ev: m.BranchesMerged, ctx: Context) -> None:
    b = branches.merge(await ctx.repo(BRANCH).get(ev.from_branch_id), branch_id=ev.from_branch_id,
                       into=ev.into_branch_id, on=ev.on.isoformat())
    ctx.repo(BRANCH).add(b)


async def _member(ctx: Context, member_id: str) -> MemberView:
    return await ctx.repo(MEMBER_VIEW).get(member_id) or MemberView(member_id)


async def member_registered(ev: m.MemberRegistered, ctx: Context) -> None:
    v = await _member(ctx, ev.member_id)
    v.name, v.branch_id, v.on_roll = ev.profile.name, ev.branch_id, True
    ctx.repo(MEMBER_VIEW).add(v)


async def member_profile_updated(ev: m.MemberProfileUpdated, ctx: Context) -> None:
    v = await _member(ctx, ev.member_id)
    v.name, v.branch_id = ev.profile.name, ev.branch_id
    ctx.repo(MEMBER_VIEW).add(v)


async def member_transferred(ev: m.MemberTransferred, ctx: Context) -> None:
    v = await _member(ctx, ev.member_id)
    v.branch_id, v.on_roll = ev.to_branch_id or ev.from_branch_id, ev.to_branch_id is not None
    ctx.repo(MEMBER_VIEW).add(v)


async def member_died(ev: m.MemberDied, ctx: Context) -> None:
    v = await _member(ctx, ev.member_id)
    v.branch_id, v.on_roll = v.branch_id or ev.branch_id, False
    ctx.repo(MEMBER_VIEW).add(v)


async def specialist_assigned(ev: m.SpecialistAssigned, ctx: Context) -> None:
    """Whose visits the member is: a specialist records visits over HTTP only to their own members."""
    v = await _member(ctx, ev.member_id)
    v.branch_id, v.specialist_id = v.branch_id or ev.branch_id, ev.specialist_id
    ctx.repo(MEMBER_VIEW).add(v)


async def branch_dissolved(ev: rz.BranchDissolved, ctx: Context) -> None:
    """A dissolved branch is closed as a merged one is, into none (issue 13)."""
    b = branches.merge(await ctx.repo(BRANCH).get(ev.branch_id), branch_id=ev.branch_id, into=None,
                       on=ev.on.isoformat())
    ctx.repo(BRANCH).add(b)


async def branch_moved(ev: rz.BranchMoved, ctx: Context) -> None:
    b = await ctx.repo(BRANCH).get(ev.branch_id) or branches.Branch(ev.branch_id)
    b.parent_id, b.ancestors = ev.to_community_id, list(ev.ancestors)
    ctx.repo(BRANCH).add(b)


async def branch_settings_changed(ev: rz.BranchSettingsChanged, ctx: Context) -> None:
    b = await ctx.repo(BRANCH).get(ev.branch_id) or branches.Branch(ev.branch_id)
    b.has_committee, b.party_groups = ev.has_committee, ev.party_groups
    ctx.repo(BRANCH).add(b)


MEMBER_EVENT_HANDLERS: dict[str, Handler] = {
    # 化并转 (issue 13)
    "BranchDissolved": Handler(branch_dissolved, lambda e: [(BRANCHES, e.branch_id)]),
    "BranchMoved": Handler(branch_moved, lambda e: [(BRANCHES, e.branch_id)]),
    "BranchSettingsChanged": Handler(branch_settings_changed, lambda e: [(BRANCHES, e.branch_id)]),
    "OrganizationEstablished": Handler(organization_established, lambda e: [(BRANCHES, e.org_id)]),
    "BranchesMerged": Handler(branches_merged, lambda e: [(BRANCHES, e.from_branch_id)]),
    "MemberRegistered": Handler(member_registered, lambda e: [(MEMBERS, e.member_id)]),
    "MemberProfileUpdated": Handler(member_profile_updated, lambda e: [(MEMBERS, e.member_id)]),
    "MemberTransferred": Handler(member_transferred, lambda e: [(MEMBERS, e.member_id)]),
    "MemberDied": Handler(member_died, lambda e: [(MEMBERS, e.member_id)]),
    "SpecialistAssigned": Handler(specialist_assigned, lambda e: [(MEMBERS, e.member_id)]),
}
