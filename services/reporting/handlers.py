"""Reporting's service layer: projections kept from every events topic, in one table."""
from services.reporting.adapters.documents import MEMBERS, ORGS, facts_from_doc, facts_to_doc
from services.reporting.domain.roster import Stint
from shared.contracts import members as m
from shared.messaging.pipeline import Context, Handler


async def organization_established(e: m.OrganizationEstablished, ctx: Context) -> None:
    ctx.put(ORGS, {"_id": e.org_id, "name": e.name, "kind": e.kind, "parent_id": e.parent_id,
                   "ancestors": e.ancestors, "has_committee": e.has_committee, "party_groups": e.party_groups})


async def member_registered(e: m.MemberRegistered, ctx: Context) -> None:
    facts = facts_from_doc(await ctx.get(MEMBERS, e.member_id), e.member_id)
    start = e.profile.registered_on.isoformat() if e.profile.registered_on else ctx.envelope.occurred_at.date().isoformat()
    path = e.ancestors or [e.branch_id]
    if not any(s.branch_id == e.branch_id and s.start == start for s in facts.stints):
        facts.stints.append(Stint(e.branch_id, path, start))
    ctx.put(MEMBERS, facts_to_doc(facts))


HANDLERS: dict[str, Handler] = {
    "OrganizationEstablished": Handler(organization_established, lambda e: [(ORGS, e.org_id)]),
    "MemberRegistered": Handler(member_registered, lambda e: [(MEMBERS, e.member_id)]),
}
