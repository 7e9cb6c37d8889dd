"""A branch's leadership through the members handlers, against the in-memory unit of work."""
import pytest

from services.members.adapters.documents import ELECTIONS, ORGS, org_from_doc
from services.members.domain import committee as cm
from services.members.handlers import HANDLERS
from tests.support.fake_uow import FakeUnitOfWork, handle, refusal
from tests.support.messages import envelope
from tests.support.scenario import register, tree

pytestmark = pytest.mark.unit


async def run(uow: FakeUnitOfWork, env: dict) -> list[dict]:
    return await handle(HANDLERS, env, uow)


async def refused(uow: FakeUnitOfWork, env: dict) -> tuple[str, list[str]]:
    return await refusal(HANDLERS, env, uow)


NAMES = ["王秀英", "李建国", "张桂兰", "刘振华", "陈淑珍", "杨德明", "赵玉梅"]


async def branch_with_members(n: int = 7, *, has_committee: bool = True, branches: int = 1):
    """A stored tree whose first branch has `n` members (registered 5 Jan 2026): (ids, members, uow)."""
    ids, cmds = tree(branches)
    for cmd in cmds:
        if cmd["data"]["kind"] == "branch":
            cmd["data"]["has_committee"] = has_committee
    uow = FakeUnitOfWork()
    for cmd in cmds:
        await run(uow, cmd)
    b = ids["branches"][0]
    members = [f"m{i + 1}-{b}" for i in range(n)]
    for i, m in enumerate(members):
        await run(uow, register(b, member_id=m, name=NAMES[i % len(NAMES)]))
    uow.commit()
    return ids, members, FakeUnitOfWork(uow.docs)


def election(b: str, lines: list[tuple[str, str]], *, election_id: str = "e1", held_on: str = "2026-03-01",
             kind: str = "general", present: int = 7) -> dict:
    return envelope("RecordElection", {"election_id": election_id, "branch_id": b, "held_on": held_on, "kind": kind,
                                       "eligible": 7, "present": present,
                                       "elected": [{"member_id": m, "post": p, "votes": present} for m, p in lines]})


def stored_branch(uow: FakeUnitOfWork, b: str):
    return org_from_doc(uow.pending(ORGS).get(b) or uow.docs[ORGS][b])


async def test_a_general_election_announces_the_result_and_each_post():
    ids, ms, uow = await branch_with_members()
    b = ids["branches"][0]
    lines = [(ms[0], "secretary"), (ms[1], "organization_member"), (ms[2], "propaganda_member"),
             (ms[3], "discipline_member")]
    events = await run(uow, election(b, lines))
    assert [e["type"] for e in events] == ["ElectionRecorded"] + ["CommitteeMemberAppointed"] * 4 + [
        "SecretaryAppointed"]
    result = events[0]["data"]
    assert (result["term_started_on"], result["term_ends_on"]) == ("2026-03-01", "2031-03-01")
    assert [x["member_name"] for x in result["elected"]] == NAMES[:4]
    assert all(e["data"]["election_id"] == "e1" for e in events[1:5])
    assert events[-1]["data"] == {"branch_id": b, "member_id": ms[0], "member_name": NAMES[0],
                                  "previous_member_id": None}
    assert {r.key for r in uow.outbox} == {b.encode()}  # all keyed by the branch: in order
    branch = stored_branch(uow, b)
    assert branch.secretary_id == ms[0] and len(branch.committee_history) == 4
    assert uow.pending(ELECTIONS)["e1"]["branch_id"] == b
    uow.commit()
    uow = FakeUnitOfWork(uow.docs)
    assert await refused(uow, election(b, lines, held_on="2026-04-01")) == ("duplicate", ["data.election_id"])


async def test_an_election_names_members_of_the_branch_registered_by_then():
    ids, ms, uow = await branch_with_members(branches=2)
    b, other = ids["branches"]
    stranger = "m-elsewhere"
    await run(uow, register(other, member_id=stranger))
    uow.commit_message()
    assert await refused(uow, election(b, [(stranger, "secretary")])) == ("not_allowed", ["data.elected.0.member_id"])
    assert await refused(uow, election(b, [("m-nobody", "secretary")])) == (
        "unknown_reference", ["data.elected.0.member_id"])
    assert await refused(uow, election(b, [(ms[0], "secretary")], held_on="2025-12-01")) == (
        "invalid", ["data.elected.0.member_id"])  # before the member was registered
    assert await refused(uow, election(b, [(ms[0], "secretary")], present=5)) == ("invalid", ["data.present"])


async def test_appointing_and_removing_a_post():
    ids, ms, uow = await branch_with_members()
    b = ids["branches"][0]
    [appointed, secretary] = await run(uow, envelope("AppointCommitteeMember", {
        "branch_id": b, "member_id": ms[4], "post": "secretary", "on": "2026-02-01"}))
    assert (appointed["type"], appointed["data"]["post"], secretary["type"]) == (
        "CommitteeMemberAppointed", "secretary", "SecretaryAppointed")
    [ev] = await run(uow, envelope("AppointCommitteeMember", {
        "branch_id": b, "member_id": ms[5], "post": "propaganda_member", "on": "2026-02-01"}))
    assert ev["data"]["member_name"] == NAMES[5]
    [removed] = await run(uow, envelope("RemoveCommitteeMember", {
        "branch_id": b, "post": "propaganda_member", "on": "2026-05-01", "reason": "resigned"}))
    assert removed["data"] == {"branch_id": b, "post": "propaganda_member", "member_id": ms[5],
                                    "member_name": NAMES[5], "on": "2026-05-01", "reason": "resigned"}
    assert await refused(uow, envelope("RemoveCommitteeMember", {
        "branch_id": b, "post": "propaganda_member", "on": "2026-06-01", "reason": "resigned"})) == (
        "conflict", ["data.post"])
    assert await refused(uow, envelope("AppointCommitteeMember", {
        "branch_id": b, "member_id": ms[1], "post": "secretary", "on": "2025-12-31"})) == ("invalid", ["data.member_id"])


async def test_appoint_secretary_keeps_the_post_s_history_too():
    ids, ms, uow = await branch_with_members(3, has_committee=False)
    b = ids["branches"][0]
    events = await run(uow, envelope("AppointSecretary", {"branch_id": b, "member_id": ms[0]},
                                     occurred_at="2026-02-03T10:00:00+08:00"))
    assert [e["type"] for e in events] == ["CommitteeMemberAppointed", "SecretaryAppointed"]
    assert events[0]["data"]["on"] == "2026-02-03"
    assert await run(uow, envelope("AppointSecretary", {"branch_id": b, "member_id": ms[0]})) != []
    assert len(stored_branch(uow, b).committee_history) == 1  # appointed again: nothing new


async def test_leaving_the_branch_empties_the_posts_held():
    ids, ms, uow = await branch_with_members(branches=2)
    b, other = ids["branches"]
    lines = [(ms[0], "secretary"), (ms[1], "organization_member"), (ms[2], "propaganda_member"),
             (ms[3], "discipline_member")]
    await run(uow, election(b, lines))
    moved = await run(uow, envelope("TransferMember", {"member_id": ms[2], "on": "2026-05-01", "to_branch_id": other}))
    assert [(e["type"], e["data"].get("post"), e["data"].get("reason")) for e in moved] == [
        ("CommitteeMemberRemoved", "propaganda_member", "left_branch"), ("MemberTransferred", None, None)]
    died = await run(uow, envelope("RecordMemberDeath", {"member_id": ms[0], "on": "2026-06-01"}))
    assert [(e["type"], e["data"].get("post")) for e in died] == [("CommitteeMemberRemoved", "secretary"),
                                                                  ("MemberDied", None)]
    assert died[1]["data"]["secretary_vacated"] is True
    assert set(cm.line_up(stored_branch(uow, b))) == {"organization_member", "discipline_member"}
    merged = await run(uow, envelope("MergeBranches", {"from_branch_id": b, "into_branch_id": other,
                                                       "on": "2026-07-01"}))
    removed = [e["data"] for e in merged if e["type"] == "CommitteeMemberRemoved"]
    assert sorted((r["post"], r["reason"]) for r in removed) == [("discipline_member", "merged"),
                                                                 ("organization_member", "merged")]
    assert cm.line_up(stored_branch(uow, b)) == {}


def session(attendees: list[str], *, session_id: str = "t1", org_id: str, held_on: str = "2026-03-18",
            hours: str = "6") -> dict:
    return envelope("RecordTrainingSession", {"session_id": session_id, "title": "支部书记培训班", "held_on": held_on,
                                              "org_id": org_id, "hours": hours, "attendee_ids": attendees})


async def test_a_training_session_names_each_attendee_with_the_posts_held_that_day():
    ids, ms, uow = await branch_with_members()
    b = ids["branches"][0]
    await run(uow, election(b, [(ms[0], "secretary"), (ms[1], "organization_member"),
                                (ms[2], "propaganda_member"), (ms[3], "discipline_member")]))
    [ev] = await run(uow, session([ms[0], ms[4]], org_id=ids["district"]))
    assert ev["type"] == "TrainingSessionRecorded" and ev["data"]["hours"] == "6"
    assert [(a["member_id"], a["branch_id"], a["posts"]) for a in ev["data"]["attendees"]] == [
        (ms[0], b, ["secretary"]), (ms[4], b, [])]
    from services.members.adapters.documents import MEMBERS, TRAININGS, member_from_doc
    assert member_from_doc(uow.pending(MEMBERS)[ms[0]]).trainings == [
        {"session_id": "t1", "title": "支部书记培训班", "held_on": "2026-03-18", "hours": "6"}]
    assert uow.pending(TRAININGS)["t1"]["attendee_ids"] == [ms[0], ms[4]]
    [late] = await run(uow, envelope("RecordTrainingAttendance", {"session_id": "t1", "member_id": ms[1]}))
    assert (late["type"], late["data"]["attendee"]["posts"], late["data"]["held_on"]) == (
        "TrainingAttendanceRecorded", ["organization_member"], "2026-03-18")
    assert await refused(uow, envelope("RecordTrainingAttendance", {"session_id": "t1", "member_id": ms[1]})) == (
        "duplicate", ["data.member_id"])
    assert await refused(uow, envelope("RecordTrainingAttendance", {"session_id": "t9", "member_id": ms[1]})) == (
        "unknown_reference", ["data.session_id"])


async def test_a_training_session_s_rules():
    ids, ms, uow = await branch_with_members(3)
    d = ids["district"]
    await run(uow, session([ms[0]], org_id=d))
    assert await refused(uow, session([ms[1]], org_id=d)) == ("duplicate", ["data.session_id"])
    assert await refused(uow, session([ms[1]], session_id="t2", org_id="nowhere")) == (
        "unknown_reference", ["data.org_id"])
    assert await refused(uow, session([ms[1], ms[2], ms[1]], session_id="t2", org_id=d, hours="0")) == (
        "invalid", ["data.hours", "data.attendee_ids.2"])
    assert await refused(uow, session([ms[1], "m-nobody"], session_id="t2", org_id=d)) == (
        "unknown_reference", ["data.attendee_ids.1"])
    assert await refused(uow, session([ms[1]], session_id="t2", org_id=d, held_on="2025-12-01")) == (
        "invalid", ["data.attendee_ids.0"])  # before the member was registered
    await run(uow, envelope("RecordMemberDeath", {"member_id": ms[2], "on": "2026-02-01"}))
    assert await refused(uow, session([ms[2]], session_id="t2", org_id=d)) == ("not_allowed", ["data.attendee_ids.0"])


async def test_assessment_and_allowance_through_the_handlers():
    ids, ms, uow = await branch_with_members(3, has_committee=False)
    b = ids["branches"][0]
    await run(uow, envelope("AppointCommitteeMember", {"branch_id": b, "member_id": ms[0], "post": "secretary",
                                                       "on": "2026-01-10"}))
    [rate] = await run(uow, envelope("SetSecretaryAllowance", {"branch_id": b, "from_month": "2026-01",
                                                               "monthly_amount": "300.00"}))
    assert rate["data"] == {"branch_id": b, "from_month": "2026-01", "monthly_amount": "300.00",
                            "previous_amount": None}
    payment = {"payment_id": "ap1", "branch_id": b, "member_id": ms[0], "from_month": "2026-01", "to_month": "2026-03",
               "amount": "900.00", "paid_on": "2026-04-08"}
    [paid] = await run(uow, envelope("RecordAllowancePayment", payment))
    assert (paid["type"], paid["data"]["member_name"], [x["month"] for x in paid["data"]["months"]]) == (
        "AllowancePaid", NAMES[0], ["2026-01", "2026-02", "2026-03"])
    assert await refused(uow, envelope("RecordAllowancePayment", payment)) == ("duplicate", ["data.payment_id"])
    assert await refused(uow, envelope("RecordAllowancePayment", {**payment, "payment_id": "ap2",
                                                                  "member_id": ms[1]})) == (
        "conflict", ["data.from_month"])
    [assessed] = await run(uow, envelope("RecordSecretaryAssessment", {
        "branch_id": b, "member_id": ms[0], "year": 2026, "result": "excellent"},
        occurred_at="2026-12-20T10:00:00+08:00"))
    assert assessed["data"] == {"branch_id": b, "member_id": ms[0], "member_name": NAMES[0], "year": 2026,
                                     "result": "excellent", "replaces": None}
    assert await refused(uow, envelope("RecordSecretaryAssessment", {
        "branch_id": b, "member_id": ms[1], "year": 2026, "result": "competent"},
        occurred_at="2026-12-20T10:00:00+08:00")) == ("not_allowed", ["data.member_id"])
    # the secretary dies: the months served are still paid to them
    await run(uow, envelope("RecordMemberDeath", {"member_id": ms[0], "on": "2026-05-03"}))
    [late] = await run(uow, envelope("RecordAllowancePayment", {**payment, "payment_id": "ap3", "from_month": "2026-04",
                                                               "to_month": "2026-05", "amount": "600.00",
                                                               "paid_on": "2026-06-01"}))
    assert late["data"]["amount"] == "600.00"
    assert await refused(uow, envelope("RecordAllowancePayment", {**payment, "payment_id": "ap4", "from_month": "2026-06",
                                                                  "to_month": "2026-06", "amount": "300.00",
                                                                  "paid_on": "2026-06-09"})) == (
        "not_allowed", ["data.member_id"])  # June: the post was empty
