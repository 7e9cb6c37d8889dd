"""Where each command of members.commands writes, for `POST /api/v1/commands` (shared.auth.command_scope).

An organisation is placed by its path (`orgs`: ancestors, itself), a member by their branch's path
(`members.org_path`) and specialist, an applicant and a training session by the organisation they
belong to. A command that creates something is placed where it creates it: a new organisation
under its parent (a district, with no parent, only by the district), a new member or applicant in
their branch. A command that moves something writes to both ends (a transfer, a merge, a move).
"""
from services.members.adapters.documents import MEMBERS, ORGS, TRAININGS
from services.members.adapters.records import APPLICANTS
from shared.auth.command_scope import Place, Scope, unknown
from shared.contracts import members as c


async def _org(db, org_id: str) -> Place:
    doc = await db[ORGS].find_one({"_id": org_id}, {"ancestors": 1})
    if doc is None:
        return unknown("organisation", org_id)
    return Place("organisation", org_id, (*doc.get("ancestors", []), org_id))


async def _member(db, member_id: str) -> Place:
    doc = await db[MEMBERS].find_one({"_id": member_id}, {"org_path": 1, "specialist_id": 1})
    if doc is None:
        return unknown("member", member_id)
    return Place("member", member_id, tuple(doc.get("org_path", [])), member_id, doc.get("specialist_id"))


async def _within(db, what: str, id: str, coll: str, field: str) -> Place:
    """A record placed by the organisation it belongs to (an applicant's branch, a session's org)."""
    doc = await db[coll].find_one({"_id": id}, {field: 1})
    if doc is None:
        return unknown(what, id)
    return Place(what, id, (await _org(db, doc[field])).path)


async def _award_subject(db, subject_id: str) -> Place:
    """A branch, a member or an activist not yet a member (`handlers.grant_award`)."""
    if await db[ORGS].find_one({"_id": subject_id}, {"_id": 1}):
        return await _org(db, subject_id)
    if await db[MEMBERS].find_one({"_id": subject_id}, {"_id": 1}):
        return await _member(db, subject_id)
    return await _within(db, "applicant", subject_id, APPLICANTS, "branch_id")


async def _branch(db, m) -> list[Place]:
    return [await _org(db, m.branch_id)]


async def _member_of(db, m) -> list[Place]:
    return [await _member(db, m.member_id)]


async def _branch_and_member(db, m) -> list[Place]:
    return [await _org(db, m.branch_id), await _member(db, m.member_id)]


async def _establish(db, m: c.EstablishOrganization) -> list[Place]:
    return [await _org(db, m.parent_id) if m.parent_id else unknown("organisation", m.org_id)]


async def _transfer(db, m: c.TransferMember) -> list[Place]:
    return [await _member(db, m.member_id), *([await _org(db, m.to_branch_id)] if m.to_branch_id else [])]


async def _merge(db, m) -> list[Place]:
    return [await _org(db, m.from_branch_id), await _org(db, m.into_branch_id)]


async def _move(db, m) -> list[Place]:
    return [await _org(db, m.branch_id), await _org(db, m.to_community_id)]


async def _training_session(db, m) -> list[Place]:
    return [await _org(db, m.org_id), *[await _member(db, i) for i in m.attendee_ids]]


async def _training_attendance(db, m) -> list[Place]:
    return [await _within(db, "training", m.session_id, TRAININGS, "org_id"), await _member(db, m.member_id)]


async def _applicant(db, m) -> list[Place]:
    return [await _within(db, "applicant", m.applicant_id, APPLICANTS, "branch_id")]


async def _award(db, m) -> list[Place]:
    return [await _award_subject(db, m.subject_id)]


COMMAND_SCOPES: dict[str, Scope] = {
    # the organisation tree and its reorganisation (化并转)
    "EstablishOrganization": _establish,
    "MergeBranches": _merge,
    "MoveBranch": _move,
    "DissolveBranch": _branch,
    "ChangeBranchSettings": _branch,
    # a branch's records
    "RateBranch": _branch,
    "GradeBranch": _branch,
    "RecordBranchFunds": _branch,
    "RecordBranchSpending": _branch,
    "RecordElection": _branch,
    "RemoveCommitteeMember": _branch,
    "SetSecretaryAllowance": _branch,
    "AppointSecretary": _branch_and_member,
    "AppointCommitteeMember": _branch_and_member,
    "RecordSecretaryAssessment": _branch_and_member,
    "RecordAllowancePayment": _branch_and_member,
    "RecordTrainingSession": _training_session,
    "RecordTrainingAttendance": _training_attendance,
    "GrantAward": _award,
    # a member's ledger
    "RegisterMember": _branch,
    "TransferMember": _transfer,
    "UpdateMemberProfile": _member_of,
    "MarkMemberAway": _member_of,
    "MarkMemberReturned": _member_of,
    "ExemptMember": _member_of,
    "RecordMemberDeath": _member_of,
    "RecordDuesPayment": _member_of,
    "AssignSpecialist": _member_of,
    "RecordEvaluation": _member_of,
    "RecordStudyAccount": _member_of,
    "RecordStudyUse": _member_of,
    # the way into the Party
    "RecordPartyApplication": _branch,
    "AdvanceApplicant": _applicant,
    "SetBackApplicant": _applicant,
}
