"""The members service layer: one handler per command, and the one table of them.

Every handler reads what it needs, lets the pure domain decide (a refusal is a `Rejected`),
stages the new snapshots with an audit entry per record changed, and emits its events.
"""
from pydantic import ValidationError

from services.members import branch_funds, branch_grades, leadership, party_applicants, remote_study, reorganization
from services.members.adapters.documents import (
    ALLOWANCE_PAYMENTS, AWARDS, ELECTIONS, MEMBER, MEMBERS, ORGS, PAYMENTS, TRAININGS, member_to_doc, org_to_doc,
)
from services.members.domain import awards as award_rules
from services.members.domain import member as members
from services.members.domain import organization as orgs
from services.members.domain.dues import assess_payment
from services.members.adapters.records import APPLICANTS
from services.members.handling import day as _day
from services.members.handling import known_member as _known_member
from services.members.handling import member as _member
from services.members.handling import org as _org
from services.members.handling import pensions as _pensions
from services.members.handling import save_member as _save_member
from services.members.handling import save_org as _save_org
from shared.contracts import members as c
from shared.contracts.parsing import field_errors
from shared.errors import Rejected, duplicate, not_allowed
from shared.messaging.pipeline import Context, Handler


# ---- the organisation tree ------------------------------------------------------------------

async def establish_organization(cmd: c.EstablishOrganization, ctx: Context) -> None:
    org = orgs.establish(await _org(ctx, cmd.org_id), await _org(ctx, cmd.parent_id), org_id=cmd.org_id,
                         name=cmd.name, kind=cmd.kind, parent_id=cmd.parent_id,
                         has_committee=cmd.has_committee, party_groups=cmd.party_groups, on=_day(ctx))
    _save_org(ctx, None, org)
    ctx.emit(c.OrganizationEstablished(org_id=org.org_id, name=org.name, kind=org.kind, parent_id=org.parent_id,
                                       ancestors=org.ancestors, has_committee=org.has_committee,
                                       party_groups=org.party_groups))


async def appoint_secretary(cmd: c.AppointSecretary, ctx: Context) -> None:
    branch = orgs.require_branch(await _org(ctx, cmd.branch_id), cmd.branch_id, "data.branch_id")
    before = org_to_doc(branch)
    member = await _known_member(ctx, cmd.member_id)
    member.require_active()
    if member.branch_id != branch.org_id:
        raise not_allowed(f"member {cmd.member_id} is not a member of branch {branch.org_id}", "data.member_id")
    previous = branch.secretary_id
    leadership.secretary_appointed(ctx, branch, member, previous)
    _save_org(ctx, before, branch)
    ctx.emit(c.SecretaryAppointed(branch_id=branch.org_id, member_id=member.member_id,
                                  member_name=member.profile.get("name"), previous_member_id=previous))


async def rate_branch(cmd: c.RateBranch, ctx: Context) -> None:
    branch = orgs.require_branch(await _org(ctx, cmd.branch_id), cmd.branch_id, "data.branch_id")
    before = org_to_doc(branch)
    orgs.rate(branch, year=cmd.year, stars=cmd.stars, on=_day(ctx))
    _save_org(ctx, before, branch)
    ctx.emit(c.BranchRated(branch_id=branch.org_id, year=cmd.year, stars=cmd.stars))


async def merge_branches(cmd: c.MergeBranches, ctx: Context) -> None:
    source = orgs.require_branch(await _org(ctx, cmd.from_branch_id), cmd.from_branch_id, "data.from_branch_id")
    target = orgs.require_branch(await _org(ctx, cmd.into_branch_id), cmd.into_branch_id, "data.into_branch_id")
    source_before, target_before = org_to_doc(source), org_to_doc(target)
    secretary = source.secretary_id
    on = cmd.on.isoformat()
    moving, vacated = orgs.merge(source, target, on=on)
    await leadership.dissolve_committee(ctx, source, on=on)
    await ctx.repo(MEMBER).prefetch(moving)
    for member_id in moving:
        member = await _known_member(ctx, member_id)
        before = member_to_doc(member)
        members.transfer(member, on=on, to_branch=target, destination=None, merged=True)
        _save_member(ctx, before, member)
        ctx.emit(c.MemberTransferred(member_id=member_id, on=cmd.on, from_branch_id=source.org_id,
                                     to_branch_id=target.org_id, to_ancestors=target.path, merged=True,
                                     from_ancestors=source.path, secretary_vacated=member_id == secretary))
    _save_org(ctx, source_before, source)
    _save_org(ctx, target_before, target)
    ctx.emit(c.BranchesMerged(from_branch_id=source.org_id, into_branch_id=target.org_id, on=cmd.on,
                              member_ids=moving, into_ancestors=target.path, secretary_vacated=vacated))


async def grant_award(cmd: c.GrantAward, ctx: Context) -> None:
    if await ctx.get(AWARDS, cmd.award_id) is not None:
        raise duplicate(f"award {cmd.award_id} was already granted", "data.award_id")
    kind = award_rules.subject_kind(cmd.category)
    if kind == "branch":
        subject = orgs.require_branch(await _org(ctx, cmd.subject_id), cmd.subject_id, "data.subject_id")
        before = org_to_doc(subject)
        award_rules.grant(subject.awards, award_id=cmd.award_id, year=cmd.year, category=cmd.category,
                          subject_id=cmd.subject_id)
        _save_org(ctx, before, subject)
        name, branch_id = subject.name, subject.org_id
    elif cmd.category == "best_activist" and await _member(ctx, cmd.subject_id) is None:
        # 最美入党积极分子: an activist on the way into the Party (party_applicants.py), not yet a member
        name, branch_id = await party_applicants.award(ctx, cmd.award_id, cmd.year, cmd.category, cmd.subject_id)
        kind = "applicant"
    else:
        member = await _known_member(ctx, cmd.subject_id, "data.subject_id")
        member.require_active()
        before = member_to_doc(member)
        award_rules.grant(member.awards, award_id=cmd.award_id, year=cmd.year, category=cmd.category,
                          subject_id=cmd.subject_id)
        _save_member(ctx, before, member)
        name, branch_id = member.profile.get("name"), member.branch_id
    ctx.put(AWARDS, {"_id": cmd.award_id, "year": cmd.year, "category": cmd.category, "subject_id": cmd.subject_id,
                     "subject_kind": kind, "subject_name": name, "branch_id": branch_id})
    ctx.emit(c.AwardGranted(award_id=cmd.award_id, year=cmd.year, category=cmd.category, subject_id=cmd.subject_id,
                            subject_kind=kind, subject_name=name))


# ---- the member ledger ----------------------------------------------------------------------

async def register_member(cmd: c.RegisterMember, ctx: Context) -> None:
    branch = orgs.require_branch(await _org(ctx, cmd.branch_id), cmd.branch_id, "data.branch_id")
    branch_before = org_to_doc(branch)
    profile = cmd.model_dump(mode="json", exclude={"member_id", "branch_id", "registered_on", "dues_paid_through"})
    registered_on = cmd.registered_on.isoformat() if cmd.registered_on else _day(ctx)
    member = members.register(await _member(ctx, cmd.member_id), branch, member_id=cmd.member_id,
                              profile=profile, registered_on=registered_on)
    branch.admit(member.member_id)
    _save_member(ctx, None, member)
    _save_org(ctx, branch_before, branch)
    year = int(registered_on[:4])
    ctx.emit(c.MemberRegistered(member_id=member.member_id, branch_id=branch.org_id, ancestors=branch.path,
                                profile=c.MemberProfile.model_validate(member.profile), status=member.status,
                                dues_year=year, monthly_dues=members.dues_of(member, year),
                                pension_history=_pensions(member), dues_paid_through=cmd.dues_paid_through))


async def update_member_profile(cmd: c.UpdateMemberProfile, ctx: Context) -> None:
    member = await _known_member(ctx, cmd.member_id)
    try:
        fields = c.ProfileFields.model_validate(cmd.changes)
    except ValidationError as exc:
        raise Rejected.many("invalid", field_errors(exc, "data.changes.")) from None
    changes = fields.model_dump(mode="json", exclude_unset=True)
    before_doc = member_to_doc(member)
    on = _day(ctx)
    before = members.update_profile(member, changes, on=on)
    _save_member(ctx, before_doc, member)
    year = int(on[:4])
    ctx.emit(c.MemberProfileUpdated(member_id=member.member_id, branch_id=member.branch_id, changes=changes,
                                    before=before, profile=c.MemberProfile.model_validate(member.profile),
                                    dues_year=year, monthly_dues=member.dues_for(year),
                                    pension_history=_pensions(member), status=member.status_on(on),
                                    specialist_id=member.specialist_id))


async def transfer_member(cmd: c.TransferMember, ctx: Context) -> None:
    member = await _known_member(ctx, cmd.member_id)
    member.require_active()
    to_branch = None
    if cmd.to_branch_id is not None:
        to_branch = orgs.require_branch(await _org(ctx, cmd.to_branch_id), cmd.to_branch_id, "data.to_branch_id")
    before = member_to_doc(member)
    from_branch = await _org(ctx, member.branch_id)
    from_before, from_path = org_to_doc(from_branch), from_branch.path
    members.transfer(member, on=cmd.on.isoformat(), to_branch=to_branch, destination=cmd.destination)
    vacated = from_branch.release(member.member_id)
    leadership.leave_posts(ctx, from_branch, member, on=cmd.on.isoformat(), reason="left_branch")
    _save_member(ctx, before, member)
    _save_org(ctx, from_before, from_branch)
    if to_branch is not None:
        to_before = org_to_doc(to_branch)
        to_branch.admit(member.member_id)
        _save_org(ctx, to_before, to_branch)
    ctx.emit(c.MemberTransferred(member_id=member.member_id, on=cmd.on, from_branch_id=from_branch.org_id,
                                 to_branch_id=cmd.to_branch_id, to_ancestors=to_branch.path if to_branch else [],
                                 destination=cmd.destination, left_district=to_branch is None,
                                 from_ancestors=from_path, secretary_vacated=vacated))


async def mark_member_away(cmd: c.MarkMemberAway, ctx: Context) -> None:
    member = await _known_member(ctx, cmd.member_id)
    before = member_to_doc(member)
    members.mark_away(member, start=cmd.from_.isoformat(), until=cmd.until.isoformat() if cmd.until else None,
                      location=cmd.location, reason=cmd.reason)
    _save_member(ctx, before, member)
    ctx.emit(c.MemberMarkedAway(member_id=member.member_id, branch_id=member.branch_id, from_=cmd.from_,
                                until=cmd.until, location=cmd.location, reason=cmd.reason))


async def mark_member_returned(cmd: c.MarkMemberReturned, ctx: Context) -> None:
    member = await _known_member(ctx, cmd.member_id)
    before = member_to_doc(member)
    period = members.mark_returned(member, on=cmd.on.isoformat())
    _save_member(ctx, before, member)
    ctx.emit(c.MemberReturned(member_id=member.member_id, branch_id=member.branch_id, on=cmd.on,
                              away_from=period["from"], location=period["location"]))


async def exempt_member(cmd: c.ExemptMember, ctx: Context) -> None:
    member = await _known_member(ctx, cmd.member_id)
    before = member_to_doc(member)
    members.exempt(member, start=cmd.from_.isoformat(), until=cmd.until.isoformat() if cmd.until else None,
                   reason=cmd.reason)
    _save_member(ctx, before, member)
    ctx.emit(c.MemberExempted(member_id=member.member_id, branch_id=member.branch_id, from_=cmd.from_,
                              until=cmd.until, reason=cmd.reason))


async def record_member_death(cmd: c.RecordMemberDeath, ctx: Context) -> None:
    member = await _known_member(ctx, cmd.member_id)
    before = member_to_doc(member)
    members.record_death(member, on=cmd.on.isoformat())
    branch = await _org(ctx, member.branch_id)
    branch_before = org_to_doc(branch)
    vacated = branch.release(member.member_id)
    leadership.leave_posts(ctx, branch, member, on=cmd.on.isoformat(), reason="died")
    _save_member(ctx, before, member)
    _save_org(ctx, branch_before, branch)
    ctx.emit(c.MemberDied(member_id=member.member_id, branch_id=member.branch_id, on=cmd.on,
                          secretary_vacated=vacated))


async def record_dues_payment(cmd: c.RecordDuesPayment, ctx: Context) -> None:
    if await ctx.get(PAYMENTS, cmd.payment_id) is not None:
        raise duplicate(f"payment {cmd.payment_id} was already recorded", "data.payment_id")
    member = await _known_member(ctx, cmd.member_id)
    member.require_active()
    before = member_to_doc(member)
    a = assess_payment(member.pensions, member.paid_months, from_month=cmd.from_month, to_month=cmd.to_month,
                       amount=cmd.amount)
    members.record_payment(member, a.months)
    _save_member(ctx, before, member)
    event = c.DuesPaid(payment_id=cmd.payment_id, member_id=member.member_id, branch_id=member.branch_id,
                       from_month=cmd.from_month, to_month=cmd.to_month, months=a.months, amount=cmd.amount,
                       paid_on=cmd.paid_on, expected_amount=a.expected_amount, comparison=a.comparison,
                       already_paid_months=a.already_paid, double_payment=bool(a.already_paid))
    ctx.put(PAYMENTS, {"_id": cmd.payment_id, **event.to_data()})
    ctx.emit(event)


async def assign_specialist(cmd: c.AssignSpecialist, ctx: Context) -> None:
    member = await _known_member(ctx, cmd.member_id)
    before = member_to_doc(member)
    previous = members.assign_specialist(member, specialist_id=cmd.specialist_id, name=cmd.specialist_name,
                                         phone=cmd.specialist_phone)
    _save_member(ctx, before, member)
    ctx.emit(c.SpecialistAssigned(member_id=member.member_id, branch_id=member.branch_id,
                                  specialist_id=cmd.specialist_id, specialist_name=cmd.specialist_name,
                                  specialist_phone=cmd.specialist_phone, previous_specialist_id=previous))


async def record_evaluation(cmd: c.RecordEvaluation, ctx: Context) -> None:
    member = await _known_member(ctx, cmd.member_id)
    before = member_to_doc(member)
    replaced = members.record_evaluation(member, year=cmd.year, result=cmd.result, on=_day(ctx))
    _save_member(ctx, before, member)
    ctx.emit(c.EvaluationRecorded(member_id=member.member_id, branch_id=member.branch_id, year=cmd.year,
                                  result=cmd.result, replaces=replaced))


def _one_member(m) -> list:
    return [(MEMBERS, m.member_id)]


HANDLERS: dict[str, Handler] = {
    "EstablishOrganization": Handler(
        establish_organization,
        lambda m: [(ORGS, m.org_id)] + ([(ORGS, m.parent_id)] if m.parent_id else [])),
    "AppointSecretary": Handler(appoint_secretary, lambda m: [(ORGS, m.branch_id), (MEMBERS, m.member_id)]),
    "RateBranch": Handler(rate_branch, lambda m: [(ORGS, m.branch_id)]),
    "MergeBranches": Handler(merge_branches, lambda m: [(ORGS, m.from_branch_id), (ORGS, m.into_branch_id)]),
    "GrantAward": Handler(grant_award, lambda m: [(AWARDS, m.award_id), (ORGS, m.subject_id),
                                                  (MEMBERS, m.subject_id), (APPLICANTS, m.subject_id)]),
    "RegisterMember": Handler(register_member, lambda m: [(ORGS, m.branch_id), (MEMBERS, m.member_id)]),
    "UpdateMemberProfile": Handler(update_member_profile, _one_member),
    "TransferMember": Handler(transfer_member, lambda m: _one_member(m) + (
        [(ORGS, m.to_branch_id)] if m.to_branch_id else [])),
    "MarkMemberAway": Handler(mark_member_away, _one_member),
    "MarkMemberReturned": Handler(mark_member_returned, _one_member),
    "ExemptMember": Handler(exempt_member, _one_member),
    "RecordMemberDeath": Handler(record_member_death, _one_member),
    "RecordDuesPayment": Handler(record_dues_payment, lambda m: [(PAYMENTS, m.payment_id), (MEMBERS, m.member_id)]),
    "AssignSpecialist": Handler(assign_specialist, _one_member),
    "RecordEvaluation": Handler(record_evaluation, _one_member),
    # a branch's leadership (leadership.py)
    "AppointCommitteeMember": Handler(leadership.appoint_committee_member,
                                      lambda m: [(ORGS, m.branch_id), (MEMBERS, m.member_id)]),
    "RemoveCommitteeMember": Handler(leadership.remove_committee_member, lambda m: [(ORGS, m.branch_id)]),
    "RecordElection": Handler(leadership.record_election, lambda m: [
        (ELECTIONS, m.election_id), (ORGS, m.branch_id), *((MEMBERS, e.member_id) for e in m.elected)]),
    "RecordTrainingSession": Handler(leadership.record_training_session, lambda m: [
        (TRAININGS, m.session_id), (ORGS, m.org_id), *((MEMBERS, i) for i in m.attendee_ids)]),
    "RecordTrainingAttendance": Handler(leadership.record_training_attendance,
                                        lambda m: [(TRAININGS, m.session_id), (MEMBERS, m.member_id)]),
    "RecordSecretaryAssessment": Handler(leadership.record_secretary_assessment,
                                         lambda m: [(ORGS, m.branch_id), (MEMBERS, m.member_id)]),
    "SetSecretaryAllowance": Handler(leadership.set_secretary_allowance, lambda m: [(ORGS, m.branch_id)]),
    "RecordAllowancePayment": Handler(leadership.record_allowance_payment, lambda m: [
        (ALLOWANCE_PAYMENTS, m.payment_id), (ORGS, m.branch_id), (MEMBERS, m.member_id)]),
    **reorganization.HANDLERS,  # 化并转: dissolve, move, change settings (issue 13)
}
HANDLERS |= branch_funds.HANDLERS  # a branch's funds (issue 13, branch_funds.py)
HANDLERS |= branch_grades.HANDLERS  # a branch's yearly grade (issue 13, branch_grades.py)
HANDLERS |= remote_study.HANDLERS  # remote study accounts and use (issue 13, remote_study.py)
HANDLERS |= party_applicants.HANDLERS  # the way into the Party (issue 13, party_applicants.py)
