"""The members service layer of the way into the Party (发展党员, issue 13, item 5): applications,
stages and the responsible members (培养联系人). The handlers are listed in the one table,
`handlers.HANDLERS`."""
from services.members.adapters.documents import MEMBERS, ORGS
from services.members.adapters.records import APPLICANT, APPLICANTS
from services.members.domain import activists
from services.members.domain import organization as orgs
from services.members.handling import day, known_member, org
from shared.contracts import activists as c
from shared.errors import duplicate, not_allowed, unknown_reference
from shared.messaging.pipeline import Context, Handler


async def _applicant(ctx: Context, applicant_id: str) -> activists.Applicant:
    a = await ctx.repo(APPLICANT).get(applicant_id)
    if a is None:
        raise unknown_reference(f"applicant {applicant_id} has no application recorded", "data.applicant_id")
    return a


async def _contacts(ctx: Context, a: activists.Applicant, contact_ids: list[str], on: str) -> None:
    """The responsible members: full members of the applicant's branch, registered by `on`, active."""
    for i, member_id in enumerate(contact_ids):
        field_name = f"data.contact_ids.{i}"
        m = await known_member(ctx, member_id, field_name)
        if m.died_on is not None or m.transferred_on is not None:
            raise not_allowed(f"member {member_id} is no longer in the district's ledger", field_name)
        if m.branch_id != a.branch_id or m.registered_on > on:
            raise not_allowed(f"member {member_id} is not a member of branch {a.branch_id} on {on}", field_name)


async def record_party_application(cmd: c.RecordPartyApplication, ctx: Context) -> None:
    if await ctx.repo(APPLICANT).get(cmd.applicant_id) is not None:
        raise duplicate(f"applicant {cmd.applicant_id} is already recorded", "data.applicant_id")
    orgs.require_branch(await org(ctx, cmd.branch_id), cmd.branch_id, "data.branch_id")
    a = activists.apply(applicant_id=cmd.applicant_id, branch_id=cmd.branch_id, name=cmd.name, gender=cmd.gender,
                        birth_date=cmd.birth_date.isoformat(), applied_on=cmd.applied_on.isoformat(), today=day(ctx))
    ctx.repo(APPLICANT).add(a)
    ctx.emit(c.PartyApplicationRecorded(applicant_id=a.applicant_id, branch_id=a.branch_id, name=a.name,
                                        gender=cmd.gender, birth_date=cmd.birth_date, applied_on=cmd.applied_on,
                                        seq=len(a.history)))


async def advance_applicant(cmd: c.AdvanceApplicant, ctx: Context) -> None:
    a = await _applicant(ctx, cmd.applicant_id)
    on = cmd.on.isoformat()
    await _contacts(ctx, a, cmd.contact_ids, on)
    previous = activists.advance(a, stage=cmd.stage, on=on, today=day(ctx), contact_ids=cmd.contact_ids)
    ctx.repo(APPLICANT).add(a)
    contacts = []
    for member_id in a.contacts:
        m = await known_member(ctx, member_id, "data.contact_ids")
        contacts.append(c.Contact(member_id=member_id, member_name=m.profile.get("name")))
    ctx.emit(c.ApplicantAdvanced(applicant_id=a.applicant_id, branch_id=a.branch_id, name=a.name, stage=cmd.stage,
                                 previous_stage=previous, on=cmd.on, contacts=contacts,
                                 probation_ends_on=a.probation_ends_on if cmd.stage == "probationary" else None,
                                 seq=len(a.history)))


async def set_back_applicant(cmd: c.SetBackApplicant, ctx: Context) -> None:
    a = await _applicant(ctx, cmd.applicant_id)
    previous = activists.set_back(a, stage=cmd.stage, on=cmd.on.isoformat(), today=day(ctx), reason=cmd.reason)
    ctx.repo(APPLICANT).add(a)
    ctx.emit(c.ApplicantSetBack(applicant_id=a.applicant_id, branch_id=a.branch_id, name=a.name, stage=cmd.stage,
                                previous_stage=previous, on=cmd.on, reason=cmd.reason, seq=len(a.history)))


def _with_contacts(m) -> list:
    return [(APPLICANTS, m.applicant_id), *((MEMBERS, i) for i in getattr(m, "contact_ids", []))]


HANDLERS: dict[str, Handler] = {
    "RecordPartyApplication": Handler(record_party_application,
                                      lambda m: [(APPLICANTS, m.applicant_id), (ORGS, m.branch_id)]),
    "AdvanceApplicant": Handler(advance_applicant, _with_contacts),
    "SetBackApplicant": Handler(set_back_applicant, _with_contacts),
}


async def award(ctx: Context, award_id: str, year: int, category: str, subject_id: str) -> tuple[str, str]:
    """GrantAward of 最美入党积极分子 to an applicant: an activist or development target at some time in
    the year. Returns (name, branch)."""
    from services.members.domain import awards as award_rules

    a = await ctx.repo(APPLICANT).get(subject_id)
    if a is None:
        raise unknown_reference(f"{subject_id} is neither a member nor an applicant", "data.subject_id")
    if not a.was_activist_in(year):
        raise not_allowed(f"applicant {subject_id} was not an activist in {year}", "data.subject_id")
    award_rules.grant(a.awards, award_id=award_id, year=year, category=category, subject_id=subject_id)
    ctx.repo(APPLICANT).add(a)
    return a.name, a.branch_id
