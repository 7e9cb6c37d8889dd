"""Handlers of members.events: the branch and member projections (see domain/branches.py).

They run in their own pipeline and write only `branches` and `members`, which no command
handler writes, so the two pipelines never write the same document.
"""
from services.activities.adapters.documents import (
    BRANCHES, MEMBERS, branch_from_doc, branch_to_doc, member_from_doc, member_to_doc,
)
from services.activities.domain import branches
from services.activities.domain.branches import MemberView
from shared.contracts import members as m
from shared.messaging.pipeline import Context, Handler


async def organization_established(ev: m.OrganizationEstablished, ctx: Context) -> None:
    if ev.kind != "branch":
        return  # the planner plans branches; the rest of the tree is members' business
    b = branches.establish(branch_from_doc(await ctx.get(BRANCHES, ev.org_id)), branch_id=ev.org_id, name=ev.name,
                           parent_id=ev.parent_id, ancestors=ev.ancestors, has_committee=ev.has_committee,
                           party_groups=ev.party_groups)
    ctx.put(BRANCHES, branch_to_doc(b))


async def branches_merged(ev: m.BranchesMerged, ctx: Context) -> None:
    b = branches.merge(branch_from_doc(await ctx.get(BRANCHES, ev.from_branch_id)), branch_id=ev.from_branch_id,
                       into=ev.into_branch_id, on=ev.on.isoformat())
    ctx.put(BRANCHES, branch_to_doc(b))


async def _member(ctx: Context, member_id: str) -> MemberView:
    return member_from_doc(await ctx.get(MEMBERS, member_id)) or MemberView(member_id)


async def member_registered(ev: m.MemberRegistered, ctx: Context) -> None:
    v = await _member(ctx, ev.member_id)
    v.name, v.branch_id, v.on_roll = ev.profile.name, ev.branch_id, True
    ctx.put(MEMBERS, member_to_doc(v))


async def member_profile_updated(ev: m.MemberProfileUpdated, ctx: Context) -> None:
    v = await _member(ctx, ev.member_id)
    v.name, v.branch_id = ev.profile.name, ev.branch_id
    ctx.put(MEMBERS, member_to_doc(v))


async def member_transferred(ev: m.MemberTransferred, ctx: Context) -> None:
    v = await _member(ctx, ev.member_id)
    v.branch_id, v.on_roll = ev.to_branch_id or ev.from_branch_id, ev.to_branch_id is not None
    ctx.put(MEMBERS, member_to_doc(v))


async def member_died(ev: m.MemberDied, ctx: Context) -> None:
    v = await _member(ctx, ev.member_id)
    v.branch_id, v.on_roll = v.branch_id or ev.branch_id, False
    ctx.put(MEMBERS, member_to_doc(v))


MEMBER_EVENT_HANDLERS: dict[str, Handler] = {
    "OrganizationEstablished": Handler(organization_established, lambda e: [(BRANCHES, e.org_id)]),
    "BranchesMerged": Handler(branches_merged, lambda e: [(BRANCHES, e.from_branch_id)]),
    "MemberRegistered": Handler(member_registered, lambda e: [(MEMBERS, e.member_id)]),
    "MemberProfileUpdated": Handler(member_profile_updated, lambda e: [(MEMBERS, e.member_id)]),
    "MemberTransferred": Handler(member_transferred, lambda e: [(MEMBERS, e.member_id)]),
    "MemberDied": Handler(member_died, lambda e: [(MEMBERS, e.member_id)]),
}
