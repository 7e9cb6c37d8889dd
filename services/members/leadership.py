"""The members service layer for a branch's leadership (issue 13): the committee and its
elections, the training of branch secretaries, their assessments and allowance.

The handlers are listed in the one table, `handlers.HANDLERS`; the helpers at the end are what
the ledger's handlers call when the secretary is appointed or a member leaves a branch that they
served.
"""
from services.members.adapters.documents import (
    ALLOWANCE_PAYMENTS, ELECTIONS, ORGANIZATION, TRAININGS, member_to_doc, org_to_doc,
)
from services.members.domain import committee, secretary, training
from services.members.domain import organization as orgs
from services.members.domain.member import Member
from services.members.domain.organization import Organization
from services.members.handling import day, known_member, member, org, save_member, save_org
from shared.contracts import leadership as c
from shared.contracts import members as mc
from shared.contracts.types import plain
from shared.errors import duplicate, invalid, not_allowed, unknown_reference
from shared.messaging.pipeline import Context


def _name(m: Member | None) -> str | None:
    return m.profile.get("name") if m is not None else None


async def _member_of(ctx: Context, branch: Organization, member_id: str, field_name: str, on: str) -> Member:
    """A member who may serve the branch on `on`: registered by then, active, and in the branch."""
    m = await known_member(ctx, member_id, field_name)
    m.require_active()
    if m.branch_id != branch.org_id:
        raise not_allowed(f"member {member_id} is not a member of branch {branch.org_id}", field_name)
    if on < m.registered_on:
        raise invalid(f"member {member_id} was registered on {m.registered_on}, after {on}", field_name)
    return m


async def _name_of(ctx: Context, member_id: str | None) -> str | None:
    return _name(await member(ctx, member_id)) if member_id else None


# ---- the committee and its elections --------------------------------------------------------

async def appoint_committee_member(cmd: c.AppointCommitteeMember, ctx: Context) -> None:
    branch = orgs.require_branch(await org(ctx, cmd.branch_id), cmd.branch_id, "data.branch_id")
    before = org_to_doc(branch)
    on = cmd.on.isoformat()
    m = await _member_of(ctx, branch, cmd.member_id, "data.member_id", on)
    previous = committee.appoint(branch, m.member_id, post=cmd.post, on=on)
    save_org(ctx, before, branch)
    ctx.emit(c.CommitteeMemberAppointed(branch_id=branch.org_id, post=cmd.post, member_id=m.member_id,
                                        member_name=_name(m), on=cmd.on, previous_member_id=previous))
    if cmd.post == committee.SECRETARY:
        ctx.emit(mc.SecretaryAppointed(branch_id=branch.org_id, member_id=m.member_id, member_name=_name(m),
                                       previous_member_id=previous))


async def remove_committee_member(cmd: c.RemoveCommitteeMember, ctx: Context) -> None:
    branch = orgs.require_branch(await org(ctx, cmd.branch_id), cmd.branch_id, "data.branch_id")
    before = org_to_doc(branch)
    member_id = committee.remove(branch, post=cmd.post, on=cmd.on.isoformat(), reason=cmd.reason)
    save_org(ctx, before, branch)
    ctx.emit(c.CommitteeMemberRemoved(branch_id=branch.org_id, post=cmd.post, member_id=member_id,
                                      member_name=await _name_of(ctx, member_id), on=cmd.on, reason=cmd.reason))


async def record_election(cmd: c.RecordElection, ctx: Context) -> None:
    if await ctx.get(ELECTIONS, cmd.election_id) is not None:
        raise duplicate(f"election {cmd.election_id} is already recorded", "data.election_id")
    branch = orgs.require_branch(await org(ctx, cmd.branch_id), cmd.branch_id, "data.branch_id")
    before = org_to_doc(branch)
    held_on = cmd.held_on.isoformat()
    elected, names = [], {}
    for i, e in enumerate(cmd.elected):
        m = await _member_of(ctx, branch, e.member_id, f"data.elected.{i}.member_id", held_on)
        names[m.member_id] = _name(m)
        elected.append(committee.Candidate(m.member_id, e.post, e.votes, m.registered_on))
    secretary_before = branch.secretary_id
    outcome = committee.record_election(branch, election_id=cmd.election_id, held_on=held_on, kind=cmd.kind,
                                        eligible=cmd.eligible, present=cmd.present, elected=elected,
                                        term_years=cmd.term_years)
    save_org(ctx, before, branch)
    ctx.put(ELECTIONS, {"_id": cmd.election_id, "branch_id": branch.org_id, "held_on": held_on, "kind": cmd.kind})
    term = outcome.term or {}
    ctx.emit(c.ElectionRecorded(
        election_id=cmd.election_id, branch_id=branch.org_id, held_on=cmd.held_on, kind=cmd.kind,
        eligible=cmd.eligible, present=cmd.present,
        elected=[c.ElectedLine(member_id=e.member_id, member_name=names[e.member_id], post=e.post, votes=e.votes)
                 for e in cmd.elected],
        term_started_on=term.get("started_on"), term_ends_on=term.get("ends_on")))
    for post, member_id in outcome.left:
        ctx.emit(c.CommitteeMemberRemoved(branch_id=branch.org_id, post=post, member_id=member_id,
                                          member_name=await _name_of(ctx, member_id), on=cmd.held_on,
                                          reason="term_ended"))
    for post, member_id, previous in outcome.appointed:
        ctx.emit(c.CommitteeMemberAppointed(branch_id=branch.org_id, post=post, member_id=member_id,
                                            member_name=names[member_id], on=cmd.held_on,
                                            previous_member_id=previous, election_id=cmd.election_id))
    if branch.secretary_id != secretary_before:
        ctx.emit(mc.SecretaryAppointed(branch_id=branch.org_id, member_id=branch.secretary_id,
                                       member_name=names[branch.secretary_id], previous_member_id=secretary_before))


# ---- training of branch secretaries ------------------------------------------------------------

async def _trainees(ctx: Context, members: list[Member], held_on: str) -> list[c.Trainee]:
    """The attendees as events name them: their branch, and the posts they held that day."""
    await ctx.repo(ORGANIZATION).prefetch(sorted({m.branch_id for m in members}))
    out = []
    for m in members:
        branch = await org(ctx, m.branch_id)
        posts = sorted(p for p, h in committee.line_up(branch, held_on).items() if h.member_id == m.member_id)
        out.append(c.Trainee(member_id=m.member_id, member_name=_name(m), branch_id=m.branch_id, posts=posts))
    return out


async def record_training_session(cmd: c.RecordTrainingSession, ctx: Context) -> None:
    if await ctx.get(TRAININGS, cmd.session_id) is not None:
        raise duplicate(f"training session {cmd.session_id} is already recorded", "data.session_id")
    if await org(ctx, cmd.org_id) is None:
        raise unknown_reference(f"organisation {cmd.org_id} is not known", "data.org_id")
    training.check_session(hours=cmd.hours, attendee_ids=cmd.attendee_ids)
    held_on, hours = cmd.held_on.isoformat(), plain(cmd.hours)
    attendees = []
    for i, member_id in enumerate(cmd.attendee_ids):
        field_name = f"data.attendee_ids.{i}"
        m = await known_member(ctx, member_id, field_name)
        training.check_attendee(m, held_on, field_name)
        before = member_to_doc(m)
        training.attend(m, session_id=cmd.session_id, title=cmd.title, held_on=held_on, hours=hours,
                        field_name=field_name)
        save_member(ctx, before, m)
        attendees.append(m)
    ctx.put(TRAININGS, {"_id": cmd.session_id, "title": cmd.title, "held_on": held_on, "org_id": cmd.org_id,
                        "hours": hours, "attendee_ids": list(cmd.attendee_ids)})
    ctx.emit(c.TrainingSessionRecorded(session_id=cmd.session_id, title=cmd.title, held_on=cmd.held_on,
                                       org_id=cmd.org_id, hours=cmd.hours,
                                       attendees=await _trainees(ctx, attendees, held_on)))


async def record_training_attendance(cmd: c.RecordTrainingAttendance, ctx: Context) -> None:
    session = await ctx.get(TRAININGS, cmd.session_id)
    if session is None:
        raise unknown_reference(f"training session {cmd.session_id} is not recorded", "data.session_id")
    m = await known_member(ctx, cmd.member_id)
    training.check_attendee(m, session["held_on"], "data.member_id")
    before = member_to_doc(m)
    training.attend(m, session_id=cmd.session_id, title=session["title"], held_on=session["held_on"],
                    hours=session["hours"], field_name="data.member_id")
    save_member(ctx, before, m)
    ctx.put(TRAININGS, session | {"attendee_ids": [*session["attendee_ids"], m.member_id]})
    [trainee] = await _trainees(ctx, [m], session["held_on"])
    ctx.emit(c.TrainingAttendanceRecorded(session_id=cmd.session_id, title=session["title"],
                                          held_on=session["held_on"], hours=session["hours"], attendee=trainee))


# ---- the secretary's assessment and allowance ---------------------------------------------------

async def record_secretary_assessment(cmd: c.RecordSecretaryAssessment, ctx: Context) -> None:
    branch = orgs.require_branch(await org(ctx, cmd.branch_id), cmd.branch_id, "data.branch_id")
    before = org_to_doc(branch)
    m = await known_member(ctx, cmd.member_id)
    m.require_active()
    replaced = secretary.assess(branch, member_id=m.member_id, year=cmd.year, result=cmd.result, on=day(ctx),
                                comment=cmd.comment)
    save_org(ctx, before, branch)
    ctx.emit(c.SecretaryAssessed(branch_id=branch.org_id, member_id=m.member_id, member_name=_name(m),
                                 year=cmd.year, result=cmd.result, replaces=replaced))


async def set_secretary_allowance(cmd: c.SetSecretaryAllowance, ctx: Context) -> None:
    branch = orgs.require_branch(await org(ctx, cmd.branch_id), cmd.branch_id, "data.branch_id")
    before = org_to_doc(branch)
    previous = secretary.set_rate(branch, from_month=cmd.from_month, amount=cmd.monthly_amount)
    save_org(ctx, before, branch)
    ctx.emit(c.SecretaryAllowanceSet(branch_id=branch.org_id, from_month=cmd.from_month,
                                     monthly_amount=cmd.monthly_amount, previous_amount=previous))


async def record_allowance_payment(cmd: c.RecordAllowancePayment, ctx: Context) -> None:
    if await ctx.get(ALLOWANCE_PAYMENTS, cmd.payment_id) is not None:
        raise duplicate(f"allowance payment {cmd.payment_id} was already recorded", "data.payment_id")
    branch = orgs.require_branch(await org(ctx, cmd.branch_id), cmd.branch_id, "data.branch_id")
    before = org_to_doc(branch)
    # Paid for months served: a secretary who has since died or left is still paid what was due.
    m = await known_member(ctx, cmd.member_id)
    months = secretary.pay(branch, payment_id=cmd.payment_id, member_id=m.member_id, from_month=cmd.from_month,
                           to_month=cmd.to_month, amount=cmd.amount, paid_on=cmd.paid_on.isoformat())
    save_org(ctx, before, branch)
    event = c.AllowancePaid(payment_id=cmd.payment_id, branch_id=branch.org_id, member_id=m.member_id,
                            member_name=_name(m), from_month=cmd.from_month, to_month=cmd.to_month,
                            months=[c.AllowanceMonth.model_validate(x) for x in months], amount=cmd.amount,
                            paid_on=cmd.paid_on)
    ctx.put(ALLOWANCE_PAYMENTS, {"_id": cmd.payment_id, "branch_id": branch.org_id, "member_id": m.member_id})
    ctx.emit(event)


# ---- what the ledger's handlers call ----------------------------------------------------------

def secretary_appointed(ctx: Context, branch: Organization, m: Member, previous: str | None) -> None:
    """AppointSecretary: the secretary's post is the committee's too (from the command's day)."""
    if committee.appoint_secretary(branch, m.member_id, on=day(ctx)):
        ctx.emit(c.CommitteeMemberAppointed(branch_id=branch.org_id, post=committee.SECRETARY, member_id=m.member_id,
                                            member_name=_name(m), on=day(ctx), previous_member_id=previous))


def leave_posts(ctx: Context, branch: Organization, m: Member, *, on: str, reason: str) -> None:
    """A member left the branch (transfer, death): the posts they held are empty from `on`."""
    for post in committee.vacate_member(branch, m.member_id, on=on, reason=reason):
        ctx.emit(c.CommitteeMemberRemoved(branch_id=branch.org_id, post=post, member_id=m.member_id,
                                          member_name=_name(m), on=on, reason=reason))


async def dissolve_committee(ctx: Context, branch: Organization, *, on: str) -> None:
    """The branch was merged away: its committee is no more."""
    for post, member_id in committee.dissolve(branch, on=on):
        ctx.emit(c.CommitteeMemberRemoved(branch_id=branch.org_id, post=post, member_id=member_id,
                                          member_name=await _name_of(ctx, member_id), on=on, reason="merged"))
