"""The notifications service layer, message by message, against the in-memory unit of work (no I/O).

Its projection of the tree and the members is fed the events the members service's own handlers
emit, so these tests also hold the two services' contract together. Facts are dated early in 2026
(the members' commands' occurred_at), before the notices of March they are about.
"""
import pytest

from services.activities.handlers import HANDLERS as ACTIVITIES_HANDLERS
from services.members.handlers import HANDLERS as MEMBERS_HANDLERS
from services.notifications.adapters.documents import (
    DELIVERIES, FEEDBACK, MEMBERS, NOTICES, ORGS, delivery_from_doc, delivery_id, member_from_doc, notice_from_doc,
)
from services.notifications.domain.recipients import NEVER
from services.notifications.handlers import HANDLERS
from shared.contracts.parsing import parse_object
from shared.topics import NOTIFICATIONS_EVENTS
from tests.support.fake_uow import FakeUnitOfWork, handle, refusal
from tests.support.messages import envelope
from tests.support.scenario import register, tree

pytestmark = pytest.mark.unit
SENT = "2026-03-02T10:00:00+08:00"
FACTS = "2026-01-05T09:00:00+08:00"  # when the district's ledger was recorded


def dated(env: dict, occurred_at: str = FACTS) -> dict:
    return {**env, "occurred_at": occurred_at}


async def run(uow: FakeUnitOfWork, env: dict) -> list[dict]:
    return await handle(HANDLERS, env, uow)


async def refused(uow: FakeUnitOfWork, env: dict) -> tuple[str, list[str]]:
    return await refusal(HANDLERS, env, uow)


def stored(uow: FakeUnitOfWork) -> FakeUnitOfWork:
    uow.commit()
    return FakeUnitOfWork(uow.docs)


async def district(more=lambda ids: []) -> tuple[dict, FakeUnitOfWork]:
    """Two branches: b1 with an SMS reader (m1) and a member without a phone (m2), b2 with m3;
    the members service handles the commands (and `more(ids)`), notifications its events, in
    order; committed."""
    ids, cmds = tree(2)
    b1, b2 = ids["branches"]
    cmds += [register(b1, "m1", preferred_channel="sms"), register(b1, "m2", name="李建国", phone=None),
             register(b2, "m3", name="张桂兰"), *more(ids)]
    members_uow = FakeUnitOfWork()
    events = [e for cmd in cmds for e in await handle(MEMBERS_HANDLERS, dated(cmd), members_uow)]
    uow = FakeUnitOfWork()
    for ev in events:
        assert await run(uow, ev) == []
    return ids, stored(uow)


def send_notice(notice_id: str = "n1", **audience) -> dict:
    return envelope("SendNotice", {"notice_id": notice_id, "title": "关于开展主题党日活动的通知",
                                   "body": "请按时参加。", "category": "meeting", "require_ack": True,
                                   "audience": {"org_ids": [], "member_ids": [], **audience}}, occurred_at=SENT)


async def test_the_projection_knows_the_tree_and_how_to_reach_each_member():
    ids, uow = await district()
    b1, b2 = ids["branches"]
    assert uow.docs[ORGS][b1]["members"] == ["m1", "m2"]
    assert uow.docs[ORGS][ids["district"]]["branches"] == [b1, b2]
    m1 = member_from_doc(uow.docs[MEMBERS]["m1"])
    assert "_v" in uow.docs[MEMBERS]["m1"] and m1 is not None
    s = m1.standing("2026-03-02", NEVER)
    assert (s.branch_id, s.path, s.phone, s.preferred_channel) == (
        b1, (ids["district"], ids["subdistrict"], ids["community"], b1), "13912345678", "sms")
    assert m1.standing("2026-01-04", NEVER) is None  # not registered yet
    assert (m1.branch_id, m1.ancestors) == (b1, list(s.path))


async def test_a_notice_to_a_branch_is_queued_for_each_of_its_members():
    ids, uow = await district()
    b1 = ids["branches"][0]
    events = await run(uow, send_notice(org_ids=[b1]))
    # nothing is said of each delivery before it is due (the delivery worker says it then); a notice
    # asking for acknowledgement says to whom it is addressed, by branch (what reporting counts)
    assert [e["type"] for e in events] == ["NoticeCreated", "NoticeAddressed"]
    assert {(r.topic, r.key) for r in uow.outbox} == {(NOTIFICATIONS_EVENTS, b"n1")}
    assert events[1]["data"] == {"notice_id": "n1", "branch_id": b1, "addressed_on": "2026-03-02",
                                 "member_ids": ["m1", "m2"]}
    created = events[0]["data"]
    assert (created["recipient_count"], created["require_ack"]) == (2, True)

    assert set(uow.pending(DELIVERIES)) == {delivery_id("n1", "m1"), delivery_id("n1", "m2")}
    sms = delivery_from_doc(uow.pending(DELIVERIES)[delivery_id("n1", "m1")])
    assert (sms.state, sms.channel, sms.plan[0], sms.branch_id, sms.addressed_on) == (
        "pending", "sms", "sms", b1, "2026-03-02")
    assert sms.next_at.startswith("2026-03-02T02:00")  # due at once, sent by the delivery worker
    door = delivery_from_doc(uow.pending(DELIVERIES)[delivery_id("n1", "m2")])
    assert (door.state, door.plan, door.next_at) == ("pending", ["door"], sms.next_at)
    notice = notice_from_doc(uow.pending(NOTICES)["n1"])
    assert (notice.recipients, notice.addressed_on) == (["m1", "m2"], "2026-03-02")
    # a new notice's deliveries cannot exist yet: written as inserts, never read first
    assert {w._id: w.read_version for w in uow.writes if w.coll == DELIVERIES} == {
        delivery_id("n1", "m1"): None, delivery_id("n1", "m2"): None}


async def test_a_notice_to_the_district_and_a_named_member_reaches_each_member_once():
    ids, uow = await district()
    created, *addressed = await run(uow, send_notice(org_ids=[ids["district"]], member_ids=["m3"]))
    assert created["data"]["recipient_count"] == 3
    assert {e["data"]["branch_id"]: e["data"]["member_ids"] for e in addressed} == {
        ids["branches"][0]: ["m1", "m2"], ids["branches"][1]: ["m3"]}
    assert notice_from_doc(uow.pending(NOTICES)["n1"]).recipients == ["m1", "m2", "m3"]


async def test_a_member_gone_is_not_addressed():
    ids, uow = await district(lambda ids: [envelope("RecordMemberDeath", {"member_id": "m2", "on": "2026-02-01"})])
    assert member_from_doc(uow.docs[MEMBERS]["m2"]).standing("2026-01-31", NEVER) is not None
    events = await run(uow, send_notice(org_ids=[ids["branches"][0]]))
    assert [e["type"] for e in events] == ["NoticeCreated", "NoticeAddressed"]
    assert events[0]["data"]["recipient_count"] == 1 and events[1]["data"]["member_ids"] == ["m1"]
    assert set(uow.pending(DELIVERIES)) == {delivery_id("n1", "m1")}


async def test_notices_refused():
    ids, uow = await district()
    assert await refused(uow, send_notice(org_ids=[ids["branches"][0], "o-nowhere"])) == (
        "unknown_reference", ["data.audience.org_ids.1"])
    assert await refused(uow, send_notice(member_ids=["m1", "m-nobody"])) == (
        "unknown_reference", ["data.audience.member_ids.1"])
    assert uow.writes == [] and uow.outbox == []
    await run(uow, send_notice(member_ids=["m1"]))
    uow = stored(uow)
    assert await refused(uow, send_notice(member_ids=["m3"])) == ("duplicate", ["data.notice_id"])


async def test_an_acknowledgement_looks_at_its_notice_without_copying_it():
    """A district notice names all its recipients (2.9 MB at 100,000 members): an acknowledgement
    only looks at it (`peek`); copying it for each (`get`) was 71 % of the service's CPU."""
    ids, uow = await district()
    await run(uow, send_notice(org_ids=[ids["branches"][0]]))
    uow = stored(uow)
    copied, get = [], uow.get

    async def get_counted(coll: str, _id: str):
        copied.append(coll)
        return await get(coll, _id)
    uow.get = get_counted
    ack = envelope("AcknowledgeNotice", {"notice_id": "n1", "member_id": "m1", "channel": "wechat"},
                   occurred_at="2026-03-03T09:00:00+08:00")
    [ev] = await run(uow, ack)
    assert ev["type"] == "NoticeAcknowledged" and DELIVERIES in copied and NOTICES not in copied
    uow.assert_untouched()


async def test_acknowledgement_by_a_recipient_only():
    ids, uow = await district()
    await run(uow, send_notice(org_ids=[ids["branches"][0]]))
    uow = stored(uow)
    ack = envelope("AcknowledgeNotice", {"notice_id": "n1", "member_id": "m1", "channel": "wechat"},
                   occurred_at="2026-03-03T09:00:00+08:00")
    [ev] = await run(uow, ack)
    assert (ev["type"], ev["data"]["member_id"], uow.outbox[-1].key) == ("NoticeAcknowledged", "m1", b"n1")
    d = delivery_from_doc(uow.pending(DELIVERIES)[delivery_id("n1", "m1")])
    assert d.acknowledged == {"on": "2026-03-03", "channel": "wechat"}
    uow = stored(uow)
    # acknowledged once: a second acknowledgement is answered, and changes nothing (finding 13)
    assert await refused(uow, {**ack, "id": "again"}) == ("duplicate", ["data.member_id"])
    assert uow.writes == [] and uow.outbox == []
    assert await refused(uow, envelope("AcknowledgeNotice", {"notice_id": "n1", "member_id": "m3"})) == (
        "unknown_reference", ["data.member_id"])
    assert await refused(uow, envelope("AcknowledgeNotice", {"notice_id": "n-none", "member_id": "m1"})) == (
        "unknown_reference", ["data.notice_id"])


async def test_a_scheduled_activity_sends_one_meeting_notice_to_its_branches():
    ids, uow = await district()
    b2 = ids["branches"][1]
    [scheduled] = await handle(ACTIVITIES_HANDLERS, envelope("ScheduleActivity", {
        "activity_id": "a1", "kind": "branch_assembly", "title": "一季度支部党员大会", "branch_ids": [b2],
        "starts_at": "2026-03-05T09:00:00+08:00", "ends_at": "2026-03-05T11:00:00+08:00"}), FakeUnitOfWork())
    events = await run(uow, scheduled)
    assert [e["type"] for e in events] == ["NoticeCreated"]
    notice = notice_from_doc(uow.pending(NOTICES)["activity:a1"])
    assert (notice.category, notice.recipients, notice.origin) == ("meeting", ["m3"], "activity:a1")
    assert await run(uow, {**scheduled, "id": "again"}) == []  # once per activity


async def test_a_batch_of_meetings_reads_their_branches_members_at_once():
    """A meeting notice's members are named once its branches' orgs are read (`Handler.then`): the
    batch's meetings read them in one query, and their handlers read nothing more."""
    from shared.messaging.pipeline import read_named

    ids, uow = await district()
    scheduled = []
    for i, b in enumerate(ids["branches"]):
        [ev] = await handle(ACTIVITIES_HANDLERS, envelope("ScheduleActivity", {
            "activity_id": f"a{i}", "kind": "branch_assembly", "title": "一季度支部党员大会", "branch_ids": [b],
            "starts_at": "2026-03-05T09:00:00+08:00", "ends_at": "2026-03-05T11:00:00+08:00"}), FakeUnitOfWork())
        scheduled.append(parse_object(ev))
    await uow.prefetch(k for p in scheduled for k in HANDLERS[p.envelope.type].wants(p.message))
    loads = uow.loads
    await read_named(uow, [(HANDLERS[p.envelope.type], p.message, p.envelope) for p in scheduled])
    assert uow.loads == loads + 2  # the notice indexes and the members, each in one query
    assert all(uow.holds((MEMBERS, m)) for m in ("m1", "m2", "m3"))
    loads = uow.loads
    for p in scheduled:
        await run(uow, p.envelope.model_dump(mode="json"))
    assert uow.loads == loads
    assert sorted(notice_from_doc(uow.pending(NOTICES)["activity:a0"]).recipients) == ["m1", "m2"]


@pytest.mark.parametrize("from_doc, doc", [
    (notice_from_doc, {"_id": "n1", "_v": 2, "title": "t", "body": "b", "category": "meeting",
                       "audience": {"org_ids": ["b1"], "member_ids": []}}),
    (member_from_doc, {"_id": "m1", "_v": 2, "name": "王秀英", "branch_id": "b1"}),
    (delivery_from_doc, {"_id": "n1|m1", "_v": 2, "notice_id": "n1", "member_id": "m1", "branch_id": "b1",
                         "addressed_on": "2026-03-02", "plan": ["sms"], "channel": "sms",
                         "attempts": [{"channel": "sms", "attempt": 1, "state": "sending",
                                       "started_at": "2026-03-02T02:00:00Z"}]}),
])
def test_documents_read_from_the_database_load_with_their_version(from_doc, doc):
    assert from_doc(doc) is not None


def test_a_member_stored_in_the_earlier_format_is_read_as_dated_facts():
    m = member_from_doc({"_id": "m1", "_v": 3, "name": "王秀英", "branch_id": "b1", "ancestors": ["d1", "b1"],
                         "registered_on": "2026-01-05", "status": "resident", "away_from": "2026-02-01",
                         "away_until": None, "phone": "13912345678", "preferred_channel": "door",
                         "specialist_id": "sp1"})
    s = m.standing("2026-03-02", NEVER)
    assert (m.known, s.branch_id, s.path, s.away, s.phone, s.specialist_id) == (
        True, "b1", ("d1", "b1"), True, "13912345678", "sp1")
    dead = member_from_doc({"_id": "m2", "name": "李建国", "branch_id": "b1", "registered_on": "2026-01-05",
                            "status": "deceased"})
    assert dead.known and dead.standing("2026-03-02", NEVER) is None


async def test_a_door_delivery_completed_before_it_is_handed_over_is_handed_over_then_completed():
    """The specialist's completion may come before the delivery worker has handed the visit over
    (it does so when the delivery is due): the visit is handed over then, as the worker would have
    (the same event, the same id: test_worker_ids.py), and completed."""
    ids, uow = await district()
    await run(uow, send_notice(org_ids=[ids["branches"][0]]))
    uow = stored(uow)
    done = envelope("CompleteDoorDelivery", {"notice_id": "n1", "member_id": "m2", "specialist_id": "sp1",
                                             "on": "2026-03-03"})
    # The member (what the hand-over works out the delivery from) is among what the command names,
    # read with the batch's others: the handler reads nothing more.
    await uow.prefetch(HANDLERS["CompleteDoorDelivery"].wants(parse_object(done).message))
    loads = uow.loads
    events = await run(uow, done)
    assert uow.loads == loads
    assert [(e["type"], e["data"]["member_id"]) for e in events] == [
        ("DoorDeliveryAssigned", "m2"), ("DoorDeliveryCompleted", "m2")]
    assert events[1]["causation_id"] == done["id"] and events[0]["causation_id"] != done["id"]
    assert delivery_from_doc(uow.pending(DELIVERIES)[delivery_id("n1", "m2")]).state == "door_done"
    assert await refused(uow, {**done, "id": "again"}) == ("duplicate", ["data.member_id"])
    assert await refused(uow, {**done, "id": "m1", "data": {**done["data"], "member_id": "m1"}}) == (
        "not_allowed", ["data.member_id"])  # an SMS first: no visit is due


async def test_a_door_delivery_may_be_completed_by_a_substitute_and_records_who_did_it():
    """The contract refuses a completion only when no visit is assigned or it is done already; who
    completed it is recorded beside whom it was given to (a colleague covering, or a visit given to
    nobody: docs/reliability.md finding 20). Over HTTP a specialist's token completes only their own
    (entrypoints/command_scope.py); a Kafka sender (the specialists' app) may name a substitute."""
    ids, uow = await district(lambda ids: [envelope("AssignSpecialist", {
        "member_id": "m2", "specialist_id": "sp-own", "specialist_name": "李专员"})])
    await run(uow, send_notice(org_ids=[ids["branches"][0]]))
    uow = stored(uow)
    done = envelope("CompleteDoorDelivery", {"notice_id": "n1", "member_id": "m2", "specialist_id": "sp-cover",
                                             "on": "2026-03-03"})
    events = await run(uow, done)
    assert [(e["type"], e["data"]["specialist_id"]) for e in events] == [
        ("DoorDeliveryAssigned", "sp-own"), ("DoorDeliveryCompleted", "sp-cover")]
    d = delivery_from_doc(uow.pending(DELIVERIES)[delivery_id("n1", "m2")])
    assert (d.specialist_id, d.door["completed_by"]) == ("sp-own", "sp-cover")


async def test_a_notice_addressed_event_is_named_after_its_branch_not_its_members():
    """The chaos suite renames every id of a run: an id derived from the first member of a sorted
    list named a different member in each run, and the same event looked lost in one run and new in
    the other. Named after the branch, it is the same event in every run (and on every replay)."""
    from shared.contracts.parsing import derived_id

    ids, uow = await district()
    cmd = send_notice(org_ids=[ids["district"]])
    _created, *addressed = await run(uow, cmd)
    for e in addressed:
        assert e["id"] == derived_id(cmd["id"], f"k:{e['data']['branch_id']}/NoticeAddressed", by=e["source"])


async def test_a_fact_that_changes_no_delivery_re_addresses_no_notice():
    """A specialist named again (a new name, the same specialist) leaves every delivery as it was:
    the member is kept, and no open notice is looked at again. A new specialist is."""
    ids, uow = await district()
    b1 = ids["branches"][0]
    await run(uow, send_notice("n1", org_ids=[b1]))
    uow = stored(uow)

    def assigned(specialist_id: str, name: str) -> dict:
        return dated(envelope("SpecialistAssigned", {"member_id": "m2", "branch_id": b1,
                                                     "specialist_id": specialist_id, "specialist_name": name}))

    await run(uow, assigned("sp-9", "刘医生"))  # m2's first specialist: a door delivery names them
    uow = stored(uow)
    assert delivery_from_doc(uow.docs[DELIVERIES][delivery_id("n1", "m2")]).specialist_id == "sp-9"
    await run(uow, assigned("sp-9", "刘海医生"))
    # the member, their branch, and what a fact of theirs would settle: the orgs on their path and
    # those orgs' notice indexes, read at once for the batch (`Handler.then`); no delivery or notice
    assert not uow.holds((DELIVERIES, delivery_id("n1", "m2"))) and not uow.holds((NOTICES, "n1"))
    uow = stored(uow)
    assert member_from_doc(uow.docs[MEMBERS]["m2"]).specialist_name == "刘海医生"
    await run(uow, assigned("sp-7", "陈护士"))
    uow = stored(uow)
    assert delivery_from_doc(uow.docs[DELIVERIES][delivery_id("n1", "m2")]).specialist_id == "sp-7"


async def test_a_fact_and_a_notice_name_the_indexes_they_settle_so_a_batch_reads_them_at_once():
    """What `_settle_member` and `_index` read, named before the handlers run (`Handler.then`):
    the orgs on the member's path, then their notice indexes of the months still open to the fact;
    a notice's audience orgs and their index of its month. A batch reads them one query a
    collection and round, not one or two a record (notifications' commonest single read)."""
    from services.notifications.adapters.documents import NOTICE_INDEX, index_id
    from shared.contracts.parsing import parse_object
    from shared.messaging.pipeline import read_named

    ids, uow = await district()
    b1 = ids["branches"][0]
    await run(uow, send_notice("n1", org_ids=[b1]))
    uow = stored(uow)
    month = next(d["month"] for d in uow.docs[NOTICE_INDEX].values() if d["org"] == b1)
    away = parse_object(dated(envelope("MemberMarkedAway", {"member_id": "m2", "branch_id": b1, "from": "2026-03-01",
                                                             "location": "三亚", "reason": "seasonal"})))
    await uow.prefetch(HANDLERS["MemberMarkedAway"].wants(away.message))
    await read_named(uow, [(HANDLERS["MemberMarkedAway"], away.message, away.envelope)])
    assert all(uow.holds((ORGS, o)) for o in [ids["district"], b1])
    assert uow.holds((NOTICE_INDEX, index_id(b1, month)))
    fresh = FakeUnitOfWork(uow.docs)
    notice = parse_object(send_notice("n2", org_ids=[b1]))
    await read_named(fresh, [(HANDLERS["SendNotice"], notice.message, notice.envelope)])
    assert fresh.holds((ORGS, b1)) and fresh.holds((NOTICE_INDEX, index_id(b1, month)))


def test_feedback_on_a_notice_wants_the_notice_so_that_its_addressing_wakes_it():
    """Feedback on a notice not addressed yet is held; what wakes it is a write of what it wants,
    so the notice is among them (it waited for its pause, up to 4 s, after the notice came)."""
    from shared.contracts.parsing import parse_object

    fb = parse_object(envelope("RecordFeedback", {"feedback_id": "f-1", "member_id": "m-1", "notice_id": "n-1",
                                                  "text": "收到"})).message
    assert (NOTICES, "n-1") in HANDLERS["RecordFeedback"].wants(fb)
    plain = parse_object(envelope("RecordFeedback", {"feedback_id": "f-2", "member_id": "m-1", "text": "好"})).message
    assert [c for c, _ in HANDLERS["RecordFeedback"].wants(plain)] == [FEEDBACK, MEMBERS]
