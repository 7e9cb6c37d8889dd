"""The members service layer: one handler per command, and the one table of them."""
from services.members.adapters.documents import (
    MEMBERS, ORGS, member_from_doc, member_to_doc, org_from_doc, org_to_doc,
)
from services.members.domain import member as members
from services.members.domain import organization as orgs
from shared.contracts import members as c
from shared.errors import not_allowed, unknown_reference
from shared.messaging.pipeline import Context, Handler


async def _org(ctx: Context, org_id: str | None):
    return org_from_doc(await ctx.get(ORGS, org_id)) if org_id else None


async def _member(ctx: Context, member_id: str):
    return member_from_doc(await ctx.get(MEMBERS, member_id))


async def establish_organization(cmd: c.EstablishOrganization, ctx: Context) -> None:
    org = orgs.establish(await _org(ctx, cmd.org_id), await _org(ctx, cmd.parent_id), org_id=cmd.org_id,
                         name=cmd.name, kind=cmd.kind, parent_id=cmd.parent_id,
                         has_committee=cmd.has_committee, party_groups=cmd.party_groups)
    ctx.put(ORGS, org_to_doc(org))
    ctx.emit(c.OrganizationEstablished(org_id=org.org_id, name=org.name, kind=org.kind, parent_id=org.parent_id,
                                       ancestors=org.ancestors, has_committee=org.has_committee,
                                       party_groups=org.party_groups))


async def appoint_secretary(cmd: c.AppointSecretary, ctx: Context) -> None:
    branch = orgs.require_branch(await _org(ctx, cmd.branch_id), cmd.branch_id, "data.branch_id")
    member = await _member(ctx, cmd.member_id)
    if member is None:
        raise unknown_reference(f"member {cmd.member_id} is not registered", "data.member_id")
    if member.branch_id != branch.org_id or not member.alive_here:
        raise not_allowed(f"member {cmd.member_id} is not a member of branch {branch.org_id}", "data.member_id")
    previous, branch.secretary_id = branch.secretary_id, member.member_id
    ctx.put(ORGS, org_to_doc(branch))
    ctx.emit(c.SecretaryAppointed(branch_id=branch.org_id, member_id=member.member_id,
                                  member_name=member.profile.get("name"), previous_member_id=previous))


async def register_member(cmd: c.RegisterMember, ctx: Context) -> None:
    branch = orgs.require_branch(await _org(ctx, cmd.branch_id), cmd.branch_id, "data.branch_id")
    profile = cmd.model_dump(mode="json", exclude={"member_id", "branch_id", "registered_on"})
    registered_on = (cmd.registered_on or ctx.envelope.occurred_at.date()).isoformat()
    member = members.register(await _member(ctx, cmd.member_id), branch, member_id=cmd.member_id,
                              profile=profile, registered_on=registered_on)
    ctx.put(MEMBERS, member_to_doc(member))
    year = int(registered_on[:4])
    ctx.emit(c.MemberRegistered(member_id=member.member_id, branch_id=branch.org_id, ancestors=branch.path,
                                profile=c.MemberProfile.model_validate(member.profile), status=member.status,
                                dues_year=year, monthly_dues=members.dues_of(member, year)))


HANDLERS: dict[str, Handler] = {
    "EstablishOrganization": Handler(
        establish_organization,
        lambda m: [(ORGS, m.org_id)] + ([(ORGS, m.parent_id)] if m.parent_id else [])),
    "AppointSecretary": Handler(appoint_secretary, lambda m: [(ORGS, m.branch_id), (MEMBERS, m.member_id)]),
    "RegisterMember": Handler(register_member, lambda m: [(ORGS, m.branch_id), (MEMBERS, m.member_id)]),
}
