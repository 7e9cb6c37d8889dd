"""The member ledger on real Kafka and MongoDB: every member command, its event and its refusals."""
import pytest

from tests.support.members_fixtures import COMMANDS, EVENTS, accepted, command, new_member, new_tree, rejected, uid
from tests.support.messages import caused_by
from tests.support.scenario import register

pytestmark = pytest.mark.integration


@pytest.fixture
async def branches(platform, bus):
    return (await new_tree(bus, 2))["branches"]


async def test_register_without_phone_gets_door_and_carries_pension(branches, bus):
    cmd = register(branches[0], phone=None, preferred_channel="sms", lives_alone=True, monthly_pension="5200.00")
    [ev] = await accepted(bus, cmd)
    d = ev["data"]
    assert d["profile"]["preferred_channel"] == "door" and d["profile"]["lives_alone"] is True
    assert (d["dues_year"], d["monthly_dues"]) == (2026, "52.00")
    assert d["pension_history"] == [{"from": "2026-01-05", "amount": "5200.00"}]
    assert await rejected(bus, register(branches[0], monthly_pension="-5.00")) == ("invalid", ["data.monthly_pension"])
    assert await rejected(bus, register(branches[0], phone="123")) == ("invalid", ["data.phone"])


async def test_update_profile(branches, bus):
    m = await new_member(bus, branches[0])
    [ev] = await accepted(bus, command("UpdateMemberProfile", member_id=m,
                                       changes={"health": "poor", "wechat_openid": "o-9", "preferred_channel": "wechat",
                                                "monthly_pension": "6000.00"}))
    d = ev["data"]
    assert ev["type"] == "MemberProfileUpdated"
    assert d["before"] == {"health": "fair", "wechat_openid": None, "preferred_channel": "sms",
                           "monthly_pension": "4800.00"}
    assert d["profile"]["preferred_channel"] == "wechat" and d["profile"]["health"] == "poor"
    assert [p["amount"] for p in d["pension_history"]] == ["4800.00", "6000.00"]
    assert d["status"] == "resident"
    assert await rejected(bus, command("UpdateMemberProfile", member_id=m, changes={"branch_id": "x"})) == (
        "invalid", ["data.changes.branch_id"])
    assert await rejected(bus, command("UpdateMemberProfile", member_id=m, changes={"phone": "555"})) == (
        "invalid", ["data.changes.phone"])
    assert await rejected(bus, command("UpdateMemberProfile", member_id=uid("m"), changes={"health": "poor"})) == (
        "unknown_reference", ["data.member_id"])


async def test_transfer_within_and_out_of_the_district(branches, bus):
    b1, b2 = branches
    m = await new_member(bus, b1)
    [ev] = await accepted(bus, command("TransferMember", member_id=m, on="2026-03-01", to_branch_id=b2))
    assert (ev["data"]["from_branch_id"], ev["data"]["to_branch_id"], ev["data"]["to_ancestors"][-1]) == (b1, b2, b2)
    assert await rejected(bus, command("TransferMember", member_id=m, on="2026-03-02", to_branch_id=uid("b"))) == (
        "unknown_reference", ["data.to_branch_id"])
    assert await rejected(bus, command("TransferMember", member_id=m, on="2026-03-02")) == (
        "invalid", ["data.destination"])
    [ev] = await accepted(bus, command("TransferMember", member_id=m, on="2026-04-01", destination="海南省三亚市"))
    assert ev["data"]["left_district"] and ev["data"]["from_branch_id"] == b2
    assert await rejected(bus, command("AssignSpecialist", member_id=m, specialist_id="s", specialist_name="李")) == (
        "not_allowed", ["data.member_id"])


async def test_away_and_returned(branches, bus):
    m = await new_member(bus, branches[0])
    [ev] = await accepted(bus, command("MarkMemberAway", member_id=m, **{"from": "2026-11-01"}, location="三亚",
                                       reason="seasonal"))
    assert ev["type"] == "MemberMarkedAway" and ev["data"]["from"] == "2026-11-01"
    assert await rejected(bus, command("MarkMemberAway", member_id=m, **{"from": "2026-12-01"}, until="2026-12-10",
                                       location="北京", reason="family")) == ("conflict", ["data.from"])
    [ev] = await accepted(bus, command("MarkMemberReturned", member_id=m, on="2027-03-10"))
    assert (ev["type"], ev["data"]["away_from"], ev["data"]["location"]) == ("MemberReturned", "2026-11-01", "三亚")
    assert await rejected(bus, command("MarkMemberReturned", member_id=m, on="2027-04-01")) == (
        "conflict", ["data.on"])
    assert await rejected(bus, command("MarkMemberAway", member_id=m, **{"from": "2027-05-01"}, location="x",
                                       reason="holiday")) == ("invalid", ["data.reason"])


async def test_exempt(branches, bus):
    m = await new_member(bus, branches[0])
    [ev] = await accepted(bus, command("ExemptMember", member_id=m, **{"from": "2026-02-01"}, reason="年老体弱"))
    assert ev["type"] == "MemberExempted" and ev["data"]["until"] is None
    assert await rejected(bus, command("ExemptMember", member_id=m, **{"from": "2026-06-01"}, until="2026-07-01",
                                       reason="卧床")) == ("conflict", ["data.from"])


async def test_death_closes_the_record(branches, bus):
    b = branches[0]
    m = await new_member(bus, b)
    await accepted(bus, command("AppointSecretary", branch_id=b, member_id=m))
    death = command("RecordMemberDeath", member_id=m, on="2026-08-01")
    await bus.send(COMMANDS, death)
    # two keys (the member, the branch), so two partitions: no order between the two events
    wanted = {"CommitteeMemberRemoved", "MemberDied"}  # the secretary's post is empty
    events = caused_by(await bus.events(EVENTS, lambda es: {e["type"] for e in caused_by(es, death)} >= wanted, 60),
                       death)
    by_type = {e["type"]: e for e in events}
    assert set(by_type) == wanted
    assert by_type["MemberDied"]["data"]["secretary_vacated"]
    assert await rejected(bus, command("RecordMemberDeath", member_id=m, on="2026-08-02")) == (
        "not_allowed", ["data.member_id"])
    assert await rejected(bus, command("RecordDuesPayment", payment_id=uid("p"), member_id=m, from_month="2026-08",
                                       to_month="2026-08", amount="24.00", paid_on="2026-08-10")) == (
        "not_allowed", ["data.member_id"])


async def test_dues_payments(branches, bus):
    m = await new_member(bus, branches[0])
    pay = command("RecordDuesPayment", payment_id=uid("p"), member_id=m, from_month="2026-01", to_month="2026-03",
                  amount="72.00", paid_on="2026-01-20")
    [ev] = await accepted(bus, pay)
    d = ev["data"]
    assert (ev["type"], d["expected_amount"], d["comparison"], d["months"]) == (
        "DuesPaid", "72.00", "exact", ["2026-01", "2026-02", "2026-03"])
    [ev] = await accepted(bus, command("RecordDuesPayment", payment_id=uid("p"), member_id=m, from_month="2026-03",
                                       to_month="2026-04", amount="48.00", paid_on="2026-04-02"))
    d = ev["data"]
    assert (d["already_paid_months"], d["double_payment"], d["expected_amount"], d["comparison"]) == (
        ["2026-03"], True, "24.00", "over")
    [ev] = await accepted(bus, command("RecordDuesPayment", payment_id=uid("p"), member_id=m, from_month="2026-05",
                                       to_month="2026-06", amount="24.00", paid_on="2026-05-02"))
    assert ev["data"]["comparison"] == "under"
    assert await rejected(bus, command("RecordDuesPayment", payment_id=uid("p"), member_id=m, from_month="2026-07",
                                       to_month="2027-01", amount="168.00", paid_on="2026-07-02")) == (
        "invalid", ["data.to_month"])
    assert await rejected(bus, {**pay, "id": uid("again")}) == ("duplicate", ["data.payment_id"])
    assert await rejected(bus, command("RecordDuesPayment", payment_id=uid("p"), member_id=m, from_month="2026-07",
                                       to_month="2026-07", amount=24.5, paid_on="2026-07-02")) == (
        "invalid", ["data.amount"])


async def test_specialist_and_evaluations(branches, bus):
    m = await new_member(bus, branches[0])
    [ev] = await accepted(bus, command("AssignSpecialist", member_id=m, specialist_id="s1", specialist_name="李专员",
                                       specialist_phone="13800000000"))
    assert ev["type"] == "SpecialistAssigned" and ev["data"]["previous_specialist_id"] is None
    [ev] = await accepted(bus, command("AssignSpecialist", member_id=m, specialist_id="s2", specialist_name="赵专员"))
    assert ev["data"]["previous_specialist_id"] == "s1"
    [ev] = await accepted(bus, command("RecordEvaluation", member_id=m, year=2026, result="qualified"))
    assert ev["type"] == "EvaluationRecorded" and ev["data"]["replaces"] is None
    [ev] = await accepted(bus, command("RecordEvaluation", member_id=m, year=2026, result="excellent"))
    assert ev["data"]["replaces"] == "qualified"
    assert await rejected(bus, command("RecordEvaluation", member_id=m, year=2026, result="great")) == (
        "invalid", ["data.result"])
