"""A branch's leadership on real Kafka and MongoDB: elections, posts, and the committee over HTTP."""
import pytest

from tests.support import auth
from tests.support.members_fixtures import COMMANDS, EVENTS, accepted, command, new_member, new_tree, rejected, uid
from tests.support.messages import caused_by

pytestmark = pytest.mark.integration
ELSEWHERE = auth.headers("community", org_ids=[uid("elsewhere")])  # a caller of another subtree


@pytest.fixture
async def http(platform):
    async with auth.client(platform["members"].url, timeout=30) as client:
        yield client


async def committee_branch(bus, n: int = 5) -> tuple[dict, list[str]]:
    """A tree with a branch that has a committee (`ids["big"]`) and its first `n` members."""
    ids = await new_tree(bus)
    big = ids["big"] = uid("b")
    await accepted(bus, command("EstablishOrganization", org_id=big, name="怡园社区退休党支部", kind="branch",
                                parent_id=ids["community"], has_committee=True))
    names = ["王秀英", "李建国", "张桂兰", "刘振华", "陈淑珍"]
    return ids, [await new_member(bus, big, name=names[i]) for i in range(n)]


async def test_an_election_and_the_posts_over_kafka_and_http(platform, bus, http):
    ids, ms = await committee_branch(bus)
    b = ids["big"]
    election = command("RecordElection", election_id=uid("e"), branch_id=b, held_on="2026-03-01", kind="general",
                       eligible=5, present=5, elected=[
                           {"member_id": ms[0], "post": "secretary", "votes": 5},
                           {"member_id": ms[1], "post": "organization_member", "votes": 4},
                           {"member_id": ms[2], "post": "propaganda_member", "votes": 5}])
    events = await accepted(bus, election, until_type="SecretaryAppointed")
    assert [e["type"] for e in events] == ["ElectionRecorded"] + ["CommitteeMemberAppointed"] * 3 + [
        "SecretaryAppointed"]
    assert events[0]["data"]["term_ends_on"] == "2031-03-01"
    # too few present, and the same election again
    again = {**election["data"], "election_id": uid("e"), "eligible": 6, "present": 4,
             "elected": [{**x, "votes": 4} for x in election["data"]["elected"]]}
    assert await rejected(bus, command("RecordElection", **again)) == ("invalid", ["data.present"])
    assert await rejected(bus, command("RecordElection", **{**election["data"], "held_on": "2026-04-01"})) == (
        "duplicate", ["data.election_id"])
    # the propaganda member resigns; a by-election fills the post
    [left] = await accepted(bus, command("RemoveCommitteeMember", branch_id=b, post="propaganda_member",
                                         on="2026-05-20", reason="resigned"))
    assert (left["type"], left["data"]["member_id"], left["data"]["member_name"]) == (
        "CommitteeMemberRemoved", ms[2], "张桂兰")
    assert await rejected(bus, command("AppointCommitteeMember", branch_id=b, member_id=ms[3],
                                       post="organization_member", on="2026-02-01")) == ("invalid", ["data.on"])
    by = command("RecordElection", election_id=uid("e"), branch_id=b, held_on="2026-06-10", kind="by_election",
                 eligible=5, present=5, elected=[{"member_id": ms[3], "post": "propaganda_member", "votes": 5}])
    assert [e["type"] for e in await accepted(bus, by, until_type="CommitteeMemberAppointed")] == [
        "ElectionRecorded", "CommitteeMemberAppointed"]

    r = await http.get(f"/api/v1/orgs/{b}/committee", params={"as_of": "2026-07-01"})
    assert r.status_code == 200, r.text
    view = r.json()
    assert [(x["post_label"], x["name"]) for x in view["line_up"]] == [
        ("书记", "王秀英"), ("组织委员", "李建国"), ("宣传委员", "刘振华")]
    assert [x["post_label"] for x in view["vacant_posts"]] == ["纪检委员"]
    assert view["term"]["ends_on"] == "2031-03-01" and not view["term"]["overdue"]
    assert [e["kind_label"] for e in view["elections"]] == ["补选", "换届选举"]
    early = (await http.get(f"/api/v1/orgs/{b}/committee", params={"as_of": "2026-06-01"})).json()
    assert [x["post_label"] for x in early["vacant_posts"]] == ["宣传委员", "纪检委员"]
    org = (await http.get(f"/api/v1/orgs/{b}")).json()
    assert org["secretary"]["member_id"] == ms[0] and org["term"]["started_on"] == "2026-03-01"
    assert (await http.get(f"/api/v1/orgs/{ids['community']}/committee")).status_code == 404  # not a branch
    scoped = await http.get(f"/api/v1/orgs/{b}/committee", headers=ELSEWHERE)
    assert scoped.status_code == 404


async def test_a_member_leaving_the_branch_leaves_their_post(platform, bus):
    ids, ms = await committee_branch(bus, 2)
    b = ids["big"]
    await accepted(bus, command("AppointCommitteeMember", branch_id=b, member_id=ms[1], post="discipline_member",
                                on="2026-02-01"))
    death = command("RecordMemberDeath", member_id=ms[1], on="2026-03-03")
    await bus.send(COMMANDS, death)
    # two keys (the member, the branch), so two partitions: no order between the two events
    wanted = {"CommitteeMemberRemoved", "MemberDied"}
    events = caused_by(await bus.events(EVENTS, lambda es: {e["type"] for e in caused_by(es, death)} >= wanted, 60),
                       death)
    removed = next(e for e in events if e["type"] == "CommitteeMemberRemoved")
    assert {k: removed["data"][k] for k in ("branch_id", "post", "reason", "on")} == {
        "branch_id": b, "post": "discipline_member", "reason": "died", "on": "2026-03-03"}


async def test_a_training_session_over_kafka_and_http(platform, bus, http):
    ids, ms = await committee_branch(bus, 3)
    b = ids["big"]
    await accepted(bus, command("AppointCommitteeMember", branch_id=b, member_id=ms[0], post="secretary",
                                on="2026-01-10"), until_type="SecretaryAppointed")
    session = uid("t")
    [ev] = await accepted(bus, command("RecordTrainingSession", session_id=session, title="2026年支部书记培训班",
                                       held_on="2026-03-18", org_id=ids["district"], hours="6.5",
                                       attendee_ids=[ms[0]]))
    assert ev["data"]["attendees"] == [{"member_id": ms[0], "member_name": "王秀英", "branch_id": b,
                                        "posts": ["secretary"]}]
    [late] = await accepted(bus, command("RecordTrainingAttendance", session_id=session, member_id=ms[1]))
    assert late["type"] == "TrainingAttendanceRecorded" and late["data"]["hours"] == "6.5"
    assert await rejected(bus, command("RecordTrainingSession", session_id=uid("t"), title="培训", held_on="2026-03-18",
                                       org_id=ids["district"], hours="6", attendee_ids=[ms[2], uid("m")])) == (
        "unknown_reference", ["data.attendee_ids.1"])
    body = (await http.get(f"/api/v1/trainings/{session}")).json()
    assert [a["name"] for a in body["attendees"]] == ["王秀英", "李建国"] and body["hours"] == "6.5"
    ledger = (await http.get(f"/api/v1/members/{ms[0]}")).json()
    assert [t["session_id"] for t in ledger["trainings"]] == [session]
    hidden = await http.get(f"/api/v1/trainings/{session}", headers=ELSEWHERE)
    assert hidden.status_code == 404  # nothing of it in the caller's subtree


async def test_the_secretary_s_assessment_and_allowance_over_kafka_and_http(platform, bus, http):
    ids, ms = await committee_branch(bus, 2)
    b = ids["big"]
    await accepted(bus, command("AppointCommitteeMember", branch_id=b, member_id=ms[0], post="secretary",
                                on="2026-01-10"), until_type="SecretaryAppointed")
    [rate] = await accepted(bus, command("SetSecretaryAllowance", branch_id=b, from_month="2026-01",
                                         monthly_amount="300.00"))
    assert rate["type"] == "SecretaryAllowanceSet"
    pay = dict(payment_id=uid("ap"), branch_id=b, member_id=ms[0], from_month="2026-01", to_month="2026-03",
               amount="900.00", paid_on="2026-04-08")
    [paid] = await accepted(bus, command("RecordAllowancePayment", **pay))
    assert [x["amount"] for x in paid["data"]["months"]] == ["300.00"] * 3
    assert await rejected(bus, command("RecordAllowancePayment", **{**pay, "payment_id": uid("ap"), "from_month": "2026-04",
                                                                   "to_month": "2026-04", "amount": "250.00"})) == (
        "invalid", ["data.amount"])
    assert await rejected(bus, command("RecordAllowancePayment", **{**pay, "payment_id": uid("ap"),
                                                                   "member_id": ms[1], "from_month": "2026-04",
                                                                   "to_month": "2026-04", "amount": "300.00"})) == (
        "not_allowed", ["data.member_id"])
    [assessed] = await accepted(bus, command("RecordSecretaryAssessment", branch_id=b, member_id=ms[0], year=2026,
                                             result="competent"))
    assert (assessed["type"], assessed["data"]["member_name"]) == ("SecretaryAssessed", "王秀英")
    when = {"year": 2026, "as_of": "2026-05-31"}
    view = (await http.get(f"/api/v1/orgs/{b}/secretary", params=when)).json()
    assert view["secretary"]["name"] == "王秀英" and view["assessments"][0]["result_label"] == "称职"
    # the allowance is the secretary's pay (issue 12): masked for an official who does not ask
    a = view["allowance"]
    assert (a["due"], a["paid"], a["rates"][0]["amount"], a["months"][0]["due"], a["payments"][0]["amount"]) == (
        "****",) * 5
    assert [m["paid"] for m in a["months"]] == [True, True, True, False, False]
    asked = {**when, "reveal": "allowance", "reason": "核对书记补助发放"}
    for headers, params in ((auth.headers("secretary", org_ids=[b]), when),
                            (auth.headers("community", org_ids=[ids["community"]]), asked), ({}, asked)):
        a = (await http.get(f"/api/v1/orgs/{b}/secretary", params=params, headers=headers)).json()["allowance"]
        assert (a["due"], a["paid"], a["unpaid"], a["payments"][0]["amount"]) == ("1500.00", "900.00", "600.00",
                                                                                 "900.00")
    refused = await http.get(f"/api/v1/orgs/{b}/secretary", params={**asked, "reveal": "allowance"},
                             headers=auth.headers("secretary", org_ids=[b]))
    assert refused.status_code == 403
