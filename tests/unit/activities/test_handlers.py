"""The activities service layer (commands and the members.events projections), message by message,
against the in-memory unit of work (no I/O)."""
import pytest

from services.activities.adapters.documents import (
    ACTIVITIES, BRANCHES, MEMBERS, VENUE_DAYS, VENUES, activity_from_doc, branch_from_doc, day_from_doc,
    member_from_doc, venue_from_doc,
)
from services.activities.handlers import HANDLERS
from services.activities.projections import MEMBER_EVENT_HANDLERS
from services.members.handlers import HANDLERS as MEMBERS_HANDLERS
from shared.contracts.parsing import parse_object
from shared.topics import ACTIVITIES_EVENTS
from tests.support.fake_uow import FakeUnitOfWork, handle, refusal
from tests.support.messages import envelope
from tests.support.scenario import register, tree

pytestmark = pytest.mark.unit


async def run(uow: FakeUnitOfWork, env: dict, handlers: dict = HANDLERS) -> list[dict]:
    """As the pipeline does: prefetch what the handler wants, then handle the message."""
    await uow.prefetch(handlers[env["type"]].wants(parse_object(env).message))
    return await handle(handlers, env, uow)


async def refused(uow: FakeUnitOfWork, env: dict) -> tuple[str, list[str]]:
    return await refusal(HANDLERS, env, uow)


def stored(uow: FakeUnitOfWork) -> FakeUnitOfWork:
    """Commit the batch; a fresh unit of work (the next batch) over the stored documents."""
    uow.commit()
    return FakeUnitOfWork(uow.docs)


def venue(venue_id: str = "v1", capacity: int = 2) -> dict:
    return envelope("RegisterVenue", {"venue_id": venue_id, "name": "天鹅湖社区党员活动室", "org_id": "c1",
                                      "capacity": capacity, "facilities": ["音响", "投影仪"]})


def schedule(activity_id: str, start: str = "09:00", end: str = "11:00", day: str = "2026-03-05",
             kind: str = "branch_assembly", **over) -> dict:
    return envelope("ScheduleActivity", {
        "activity_id": activity_id, "kind": kind, "title": "一季度支部党员大会", "branch_ids": ["b1"],
        "starts_at": f"{day}T{start}:00+08:00", "ends_at": f"{day}T{end}:00+08:00", **over})


def present(member_id: str) -> dict:
    return {"member_id": member_id, "status": "present", "mode": "in_person"}


async def test_schedule_and_hold_an_activity_at_a_venue():
    uow = FakeUnitOfWork()
    [registered] = await run(uow, venue())
    assert registered["type"] == "VenueRegistered"
    assert venue_from_doc(uow.pending(VENUES)["v1"]).facilities == ["投影仪", "音响"]
    uow = stored(uow)

    [ev] = await run(uow, schedule("a1", venue_id="v1"))
    assert (ev["type"], ev["data"]["activity_id"], ev["data"]["held_on"], ev["data"]["venue_id"]) == (
        "ActivityScheduled", "a1", "2026-03-05", "v1")
    assert (uow.outbox[-1].topic, uow.outbox[-1].key) == (ACTIVITIES_EVENTS, b"a1")
    [booking] = day_from_doc(uow.pending(VENUE_DAYS)["v1/2026-03-05"]).bookings
    assert (booking["activity_id"], booking["starts_utc"][:16], booking["ends_utc"][:16]) == (
        "a1", "2026-03-05T01:00", "2026-03-05T03:00")
    uow = stored(uow)

    [ev] = await run(uow, envelope("RecordActivityHeld", {
        "activity_id": "a1", "minutes": "传达学习文件。", "attendance": [present("m1"), present("m2"), present("m3")]}))
    assert ev["type"] == "ActivityHeld"
    assert (ev["data"]["capacity"], ev["data"]["over_capacity"], len(ev["data"]["attendance"])) == (2, True, 3)
    a = activity_from_doc(uow.pending(ACTIVITIES)["a1"])
    assert (a.status, a.minutes, a.capacity, a.over_capacity) == ("held", "传达学习文件。", 2, True)
    assert "_v" not in uow.pending(ACTIVITIES)["a1"]
    assert await refused(uow, envelope("RecordActivityHeld", {"activity_id": "a1", "minutes": "again",
                                                              "attendance": []})) == ("conflict", ["data.activity_id"])


async def test_a_venue_is_never_double_booked():
    uow = FakeUnitOfWork()
    await run(uow, venue())
    await run(uow, schedule("a1", venue_id="v1"))
    uow = stored(uow)
    loads = uow.loads
    assert await refused(uow, schedule("a2", start="10:30", end="12:00", kind="study", venue_id="v1")) == (
        "conflict", ["data.venue_id"])
    assert uow.loads == loads + 3  # activity, venue and day: each read declared by `wants`
    assert uow.pending(ACTIVITIES) == {} and uow.outbox == []
    # one activity may start when the previous one ends
    [ev] = await run(uow, schedule("a3", start="11:00", end="12:00", kind="study", venue_id="v1"))
    assert ev["type"] == "ActivityScheduled"
    day = day_from_doc(uow.pending(VENUE_DAYS)["v1/2026-03-05"])
    assert [b["activity_id"] for b in day.bookings] == ["a1", "a3"]


async def test_cancelling_frees_the_venue():
    uow = FakeUnitOfWork()
    await run(uow, venue())
    await run(uow, schedule("a1", venue_id="v1"))
    uow = stored(uow)
    [ev] = await run(uow, envelope("CancelActivity", {"activity_id": "a1", "reason": "暴雨预警"}))
    assert (ev["type"], ev["data"]["venue_id"]) == ("ActivityCancelled", "v1")
    assert day_from_doc(uow.pending(VENUE_DAYS)["v1/2026-03-05"]).bookings == []
    [ev] = await run(uow, schedule("a2", start="09:30", end="10:30", venue_id="v1"))
    assert ev["type"] == "ActivityScheduled"


async def test_a_batch_of_activities_held_or_cancelled_reads_their_venues_at_once():
    """What holding (the venue's capacity) and cancelling (the venue's days) read beyond the
    activity is named once the activities are read (`Handler.then`): one query for the batch,
    not one a command; the handlers then read nothing more."""
    from shared.contracts.parsing import parse_object
    from shared.messaging.pipeline import read_named

    uow = FakeUnitOfWork()
    for v in ("v1", "v2"):
        await run(uow, venue(v))
    await run(uow, schedule("a1", venue_id="v1"))
    await run(uow, schedule("a2", venue_id="v2", day="2026-03-06"))
    await run(uow, schedule("a3"))  # at no venue: nothing more to read
    uow = stored(uow)
    held = [parse_object(envelope("RecordActivityHeld", {"activity_id": a, "minutes": "传达学习文件。",
                                                         "attendance": [present("m1")]}))
            for a in ("a1", "a3")]
    cancelled = parse_object(envelope("CancelActivity", {"activity_id": "a2", "reason": "暴雨预警"}))
    batch = [*held, cancelled]
    await uow.prefetch(k for p in batch for k in HANDLERS[p.envelope.type].wants(p.message))
    loads = uow.loads
    await read_named(uow, [(HANDLERS[p.envelope.type], p.message, p.envelope) for p in batch])
    assert uow.loads == loads + 2  # the venue, then the venue's days: one query each for the batch
    assert uow.holds((VENUES, "v1")) and uow.holds((VENUE_DAYS, "v2/2026-03-06")) and not uow.holds((VENUES, "v2"))
    loads = uow.loads
    for p in batch:
        await handle(HANDLERS, p.envelope.model_dump(mode="json"), uow)
    assert uow.loads == loads
    assert day_from_doc(uow.pending(VENUE_DAYS)["v2/2026-03-06"]).bookings == []


async def test_references_not_known_yet():
    uow = FakeUnitOfWork()
    assert await refused(uow, schedule("a1", venue_id="v-nowhere")) == ("unknown_reference", ["data.venue_id"])
    assert await refused(uow, envelope("RecordActivityHeld", {"activity_id": "a-nowhere", "attendance": []})) == (
        "unknown_reference", ["data.activity_id"])
    assert await refused(uow, envelope("LogVolunteerHours", {
        "entry_id": "e1", "member_id": "m1", "team": "环境整治", "hours": "2.5", "on": "2026-03-06",
        "activity_id": "a-nowhere"})) == ("unknown_reference", ["data.activity_id"])
    assert uow.writes == [] and uow.outbox == []


async def test_volunteer_hours_and_visits_are_recorded_once():
    uow = FakeUnitOfWork()
    hours = envelope("LogVolunteerHours", {"entry_id": "e1", "member_id": "m1", "team": "环境整治", "hours": "2.5",
                                           "on": "2026-03-06"})
    [ev] = await run(uow, hours)
    assert (ev["type"], ev["data"]["hours"], uow.outbox[-1].key) == ("VolunteerHoursLogged", "2.5", b"m1")
    visit = envelope("RecordVisit", {"visit_id": "vi1", "member_id": "m1", "specialist_id": "s1", "on": "2026-03-07",
                                     "kind": "home", "health": "poor", "needs": ["送药上门"]})
    [ev, request] = await run(uow, visit)  # its need opens a service request (issue 13)
    assert (ev["type"], request["type"], request["data"]["description"]) == (
        "VisitRecorded", "ServiceRequestOpened", "送药上门")
    uow = stored(uow)
    assert await refused(uow, {**hours, "id": "again"}) == ("duplicate", ["data.entry_id"])
    assert await refused(uow, {**visit, "id": "again"}) == ("duplicate", ["data.visit_id"])


async def test_projections_of_members_events():
    """The events the members service emits, fed to activities' members.events pipeline."""
    members_uow = FakeUnitOfWork()
    ids, cmds = tree(1)
    b = ids["branches"][0]
    events = [e for cmd in cmds for e in await handle(MEMBERS_HANDLERS, cmd, members_uow)]
    reg = register(b)
    events += await handle(MEMBERS_HANDLERS, reg, members_uow)
    m = reg["data"]["member_id"]
    events += await handle(MEMBERS_HANDLERS, envelope("AssignSpecialist", {
        "member_id": m, "specialist_id": "sp1", "specialist_name": "李专员"}), members_uow)
    events += await handle(MEMBERS_HANDLERS, envelope("RecordMemberDeath", {"member_id": m, "on": "2026-08-01"}),
                           members_uow)

    uow = FakeUnitOfWork()
    for ev in events:
        assert await run(uow, ev, MEMBER_EVENT_HANDLERS) == []
    assert set(uow.pending(BRANCHES)) == {b}  # only branches are planned
    branch = branch_from_doc(uow.pending(BRANCHES)[b])
    assert (branch.established, branch.parent_id, branch.ancestors) == (
        True, ids["community"], [ids["district"], ids["subdistrict"], ids["community"]])
    view = member_from_doc(uow.pending(MEMBERS)[m])
    assert (view.name, view.branch_id, view.on_roll) == ("王秀英", b, False)
    assert view.specialist_id == "sp1"  # whose visits they are (the command scope of RecordVisit)


@pytest.mark.parametrize("from_doc, doc", [
    (activity_from_doc, {"_id": "a1", "_v": 3, "kind": "study", "title": "t", "branch_ids": ["b1"],
                         "starts_at": "2026-03-05T09:00:00+08:00", "ends_at": "2026-03-05T10:00:00+08:00",
                         "held_on": "2026-03-05"}),
    (venue_from_doc, {"_id": "v1", "_v": 3, "name": "室", "org_id": "c1", "capacity": 3}),
    (day_from_doc, {"_id": "v1/2026-03-05", "_v": 3, "venue_id": "v1", "day": "2026-03-05", "bookings": []}),
    (branch_from_doc, {"_id": "b1", "_v": 3, "name": "支部", "established": True}),
    (member_from_doc, {"_id": "m1", "_v": 3, "name": "王秀英", "branch_id": "b1"}),
])
def test_documents_read_from_the_database_load_with_their_version(from_doc, doc):
    assert from_doc(doc) is not None
