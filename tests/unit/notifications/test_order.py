"""The same facts and notices, in any order, give the same deliveries.

The contract: consumers must not assume order across topics. Notifications reads notices from
notifications.commands and activities/reporting events, and the members' facts from
members.events, each at its own pace. A notice is addressed as of its day, from the facts recorded
by its open_until day; a fact that arrives after the notice settles the deliveries not yet under
way as if it had come first (services/notifications/README.md, "Late facts").
"""
import json
import random
from datetime import datetime, timedelta, timezone

import pytest

from services.activities.handlers import HANDLERS as ACTIVITIES_HANDLERS
from services.members.handlers import HANDLERS as MEMBERS_HANDLERS
from services.notifications import handlers as notification_handlers
from services.notifications.adapters.documents import (
    ALERTS, DELIVERIES, MEMBERS, NOTICES, delivery_from_doc, delivery_id, delivery_to_doc,
)
from services.notifications.domain import delivery as dl
from services.notifications.domain.quiet_hours import QuietHours
from services.notifications.handlers import HANDLERS
from shared.contracts.envelope import Envelope
from shared.contracts.parsing import parse_object
from shared.messaging.pipeline import Context
from tests.support.fake_uow import FakeUnitOfWork, _Pipeline, handle, refusal, run_deferred, stage
from tests.support.messages import envelope
from tests.support.scenario import register, tree

pytestmark = pytest.mark.unit


def at(day: str, hour: int = 9) -> str:
    return f"{day}T{hour:02d}:00:00+08:00"


def dated(env: dict, occurred_at: str) -> dict:
    return {**env, "occurred_at": occurred_at}


class District:
    """b1: m1 (SMS), m2 (no phone: the door), m4 (a phone, prefers the door); b2: m3. Recorded on
    2026-01-05 by the members service, whose events the tests feed to notifications."""

    def __init__(self):
        self.ids, cmds = tree(2)
        self.b1, self.b2 = self.ids["branches"]
        cmds += [register(self.b1, "m1", preferred_channel="sms"), register(self.b1, "m2", name="李建国", phone=None),
                 register(self.b2, "m3", name="张桂兰"), register(self.b1, "m4", preferred_channel="door")]
        cmds += [envelope("AssignSpecialist", {"member_id": m, "specialist_id": "sp1", "specialist_name": "李专员"})
                 for m in ("m1", "m2", "m3", "m4")]
        self.members = FakeUnitOfWork()
        self.cmds = [dated(c, at("2026-01-05")) for c in cmds]

    async def facts(self, *cmds: dict) -> list[dict]:
        """The members service's events for these commands (handled in the order given)."""
        out = []
        for cmd in cmds:
            out += await handle(MEMBERS_HANDLERS, cmd, self.members)
            self.members.commit()
        return out

    async def ledger(self) -> FakeUnitOfWork:
        """Notifications with the ledger projected, committed."""
        uow = FakeUnitOfWork()
        for ev in await self.facts(*self.cmds):
            await run(uow, ev)
        uow.commit()
        return uow


async def run(uow: FakeUnitOfWork, env: dict) -> list[dict]:
    await uow.prefetch(HANDLERS[env["type"]].wants(parse_object(env).message))
    return await handle(HANDLERS, env, uow)


async def feed(base: FakeUnitOfWork, inputs: list[dict]) -> tuple[FakeUnitOfWork, list[dict]]:
    """Each input in its own batch, committed, on a copy of `base`; returns the store and the events."""
    uow, events = FakeUnitOfWork(base.docs), []
    for env in inputs:
        events += await run(uow, env)
        uow.commit()
        uow = FakeUnitOfWork(uow.docs)
    return uow, events


def deliveries(uow: FakeUnitOfWork) -> dict[str, tuple]:
    """Each delivery as addressed (branch, day, channels, specialist, contacts) and its state."""
    return {k: (dl.addressing(d), d.state, d.next_at, d.held)
            for k, d in ((k, delivery_from_doc(doc)) for k, doc in uow.docs[DELIVERIES].items())}


def recipients(uow: FakeUnitOfWork, notice_id: str) -> list[str]:
    return uow.docs[NOTICES][notice_id]["recipients"]


def notice(notice_id: str, occurred_at: str, **audience) -> dict:
    return dated(envelope("SendNotice", {
        "notice_id": notice_id, "title": "关于学习贯彻全会精神的通知", "body": "请认真学习。", "category": "document",
        "require_ack": True, "audience": {"org_ids": [], "member_ids": [], **audience}}), occurred_at)


async def meeting(district: District, activity_id: str, scheduled: str, starts: str) -> dict:
    [ev] = await handle(ACTIVITIES_HANDLERS, dated(envelope("ScheduleActivity", {
        "activity_id": activity_id, "kind": "branch_assembly", "title": "一季度支部党员大会", "branch_ids": [district.b1],
        "starts_at": starts, "ends_at": starts.replace("T09", "T11")}), scheduled), FakeUnitOfWork())
    return ev


def orders(inputs: list[dict], n: int = 40) -> list[list[dict]]:
    """The given order, its reverse, and shuffles (seeded): each a possible arrival order across
    topics (the inputs have keys of their own, so no order within a key is broken)."""
    rng = random.Random(20260302)
    out = [list(inputs), list(reversed(inputs))]
    for _ in range(n):
        out.append(rng.sample(inputs, len(inputs)))
    return out


async def test_a_meeting_reaches_who_belonged_that_day_whether_a_later_death_came_first_or_not():
    """The reported defect: a meeting of 2025-10-04 reached 3 members or 2 depending on whether the
    death of one of them on 2025-11-22 had been projected."""
    d = District()
    base = await d.ledger()
    death = (await d.facts(dated(envelope("RecordMemberDeath", {"member_id": "m2", "on": "2026-04-22"}),
                                 at("2026-04-22", 20))))[0]
    activity = await meeting(d, "a1", at("2026-03-03", 8), at("2026-03-05"))
    first, _ = await feed(base, [activity, death])
    second, _ = await feed(base, [death, activity])
    assert deliveries(first) == deliveries(second)
    assert recipients(first, "activity:a1") == recipients(second, "activity:a1") == ["m1", "m2", "m4"]


async def test_facts_and_notices_in_any_order_give_the_same_deliveries():
    d = District()
    base = await d.ledger()
    facts = await d.facts(
        # before the notices' days: m2 dies, m4 goes away, m3 moves to b1
        dated(envelope("RecordMemberDeath", {"member_id": "m2", "on": "2026-03-01"}), at("2026-03-01", 20)),
        dated(envelope("MarkMemberAway", {"member_id": "m4", "from": "2026-02-20", "until": None, "location": "三亚",
                                          "reason": "seasonal"}), at("2026-02-20")),
        dated(envelope("TransferMember", {"member_id": "m3", "on": "2026-02-15", "to_branch_id": d.b1}),
              at("2026-02-15")),
        # registered from February, recorded on 10 March: after the meeting, within the notice's month
        dated(register(d.b1, "m5", name="赵德明", registered_on="2026-02-01", preferred_channel="sms"),
              at("2026-03-10")),
        # after everything: changes nothing
        dated(envelope("RecordMemberDeath", {"member_id": "m1", "on": "2026-04-20"}), at("2026-04-20", 20)),
    )
    inputs = [*facts, notice("n1", at("2026-03-02", 10), org_ids=[d.ids["district"]]),
              await meeting(d, "a1", at("2026-03-03", 8), at("2026-03-05"))]
    facts_first, created = await feed(base, inputs)
    assert recipients(facts_first, "n1") == ["m1", "m3", "m4", "m5"]
    assert recipients(facts_first, "activity:a1") == ["m1", "m3", "m4"]  # m5 was recorded after the meeting
    got = deliveries(facts_first)
    assert got[delivery_id("n1", "m3")][0][2] == d.b1  # in b1 since 15 February
    assert got[delivery_id("n1", "m4")][0][4] == ("sms", "phone_call")  # away: never the door
    assert got[delivery_id("n1", "m5")][1:] == ("pending", "2026-03-02T02:00:00.000000+00:00", None)
    notices_created = sorted((e["id"], e["data"]["notice_id"]) for e in created if e["type"] == "NoticeCreated")

    for order in orders(inputs):
        uow, created = await feed(base, order)
        assert deliveries(uow) == got, [e["type"] for e in order]
        assert {n: recipients(uow, n) for n in ("n1", "activity:a1")} == {
            n: recipients(facts_first, n) for n in ("n1", "activity:a1")}
        assert sorted((e["id"], e["data"]["notice_id"]) for e in created if e["type"] == "NoticeCreated") == \
            notices_created
        # what reporting counts as sent (finding 11): every recipient is said addressed, whatever the
        # order; m2 too when the death (dated before the notice's day) came after it — reporting's own
        # facts leave m2 out then (no stint on the day)
        said = [m for e in created if e["type"] == "NoticeAddressed" and e["data"]["notice_id"] == "n1"
                for m in e["data"]["member_ids"]]
        assert len(said) == len(set(said)) and set(said) - {"m2"} == {"m1", "m3", "m4", "m5"}, said


async def test_a_late_registration_reaches_a_notice_only_while_it_is_open():
    d = District()
    base = await d.ledger()
    [late] = [e for e in await d.facts(dated(register(d.b1, "m5", registered_on="2026-02-01"), at("2026-04-02")))
              if e["type"] == "MemberRegistered"]
    inputs = [notice("n1", at("2026-03-02", 10), org_ids=[d.b1]), late]  # open until 2026-04-01
    for order in (inputs, inputs[::-1]):
        uow, _ = await feed(base, order)
        assert recipients(uow, "n1") == ["m1", "m2", "m4"]
        assert delivery_id("n1", "m5") not in uow.docs[DELIVERIES]


async def addressed_before_a_death_and_an_away_period() -> tuple[FakeUnitOfWork, tuple[dict, dict]]:
    """n1 to b1 addressed on 2026-03-02 (due at 10:00), and two facts dated before it, not yet
    heard: m2's death on 1 March, m4 away from 25 February."""
    d = District()
    base = await d.ledger()
    [death] = await d.facts(dated(envelope("RecordMemberDeath", {"member_id": "m2", "on": "2026-03-01"}),
                                  at("2026-03-01", 20)))
    [away] = await d.facts(dated(envelope("MarkMemberAway", {"member_id": "m4", "from": "2026-02-25", "until": None,
                                                             "location": "海南", "reason": "family"}), at("2026-02-25")))
    uow, _ = await feed(base, [notice("n1", at("2026-03-02", 10), org_ids=[d.b1])])
    return uow, (death, away)


async def test_a_delivery_under_way_stays_as_proof():
    """A death dated before the notice, arriving once the member's door visit is assigned: the visit
    stays (the specialist has it), unlike a delivery nobody has acted on yet, which is withdrawn."""
    uow, (death, away) = await addressed_before_a_death_and_an_away_period()
    # the delivery worker hands m2's visit to the specialist; m4's is still queued
    visit = delivery_from_doc(uow.docs[DELIVERIES][delivery_id("n1", "m2")])
    assert dl.claim(visit, datetime.fromisoformat(at("2026-03-02", 10)), QuietHours()) == "door"
    uow.docs[DELIVERIES][delivery_id("n1", "m2")] = {**delivery_to_doc(visit), "_v": 2}
    uow, _ = await feed(uow, [death, away])
    assert delivery_from_doc(uow.docs[DELIVERIES][delivery_id("n1", "m2")]).state == "door_assigned"
    assert delivery_from_doc(uow.docs[DELIVERIES][delivery_id("n1", "m4")]).plan == ["sms", "phone_call"]


async def test_away_and_back_before_the_notice_in_either_order():
    d = District()
    base = await d.ledger()
    trip = await d.facts(
        dated(envelope("MarkMemberAway", {"member_id": "m4", "from": "2026-02-01", "until": None, "location": "三亚",
                                          "reason": "seasonal"}), at("2026-02-01")),
        dated(envelope("MarkMemberReturned", {"member_id": "m4", "on": "2026-02-28"}), at("2026-02-28")))
    n1 = notice("n1", at("2026-03-02", 10), member_ids=["m4"])
    n0 = notice("n0", at("2026-02-10", 10), member_ids=["m4"])
    results = []
    for order in ([*trip, n0, n1], [n0, n1, *trip], [trip[0], n0, n1, trip[1]], [n1, trip[0], n0, trip[1]]):
        uow, _ = await feed(base, order)
        results.append(deliveries(uow))
        assert results[-1][delivery_id("n1", "m4")][0][4] == ("door",)  # back home on 2 March
        assert results[-1][delivery_id("n0", "m4")][0][4] == ("sms", "phone_call")  # away on 10 February
    assert all(r == results[0] for r in results)


def alert(member_id: str, org_id: str, months: int, as_of: str) -> dict:
    return dated(envelope("AlertRaised", {
        "alert_id": f"dues_arrears:{member_id}:2026-01", "kind": "dues_arrears",
        "level": "alert" if months >= 6 else "warning",
        "subject_id": member_id, "org_id": org_id, "since": "2026-01", "months": months, "as_of": as_of},
        source="sunsetred-reporting"), at(as_of, 12))


@pytest.fixture
def settle(monkeypatch):
    """The reminders' settling time (NOTIFY_REMINDER_SETTLE_SECONDS), set by the test."""
    def set_to(seconds: float) -> None:
        monkeypatch.setattr(notification_handlers, "reminder_settle_seconds", lambda: seconds)
    set_to(0)  # at once, unless the test says otherwise
    return set_to


async def remind(base: FakeUnitOfWork, now: datetime) -> tuple[FakeUnitOfWork, list[dict]]:
    """What the delivery worker's round does at `now` with the reminders waiting (one unit per
    alert, as `DeliveryWorker.remind`), on a copy of `base`; returns the store and the events."""
    uow, before = FakeUnitOfWork(base.docs), 0
    for alert_id in sorted(uow.docs[ALERTS]):
        ctx = Context(_Pipeline(), Envelope.model_validate(envelope("Delivery.remind", {})), uow)
        await notification_handlers.remind_page(ctx, [alert_id], now)
        uow.commit_message()
    uow.commit()
    return uow, [json.loads(r.value) for r in uow.outbox[before:]]


def later(seconds: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)


async def test_a_reminder_is_named_by_its_alert_and_months_not_by_the_message_that_raised_it(settle):
    d = District()
    base = await d.ledger()
    # AppointSecretary also records the committee's post (CommitteeMemberAppointed): notifications reads the other
    [secretary] = [e for e in await d.facts(dated(envelope("AppointSecretary", {"branch_id": d.b1, "member_id": "m4"}),
                                                  at("2026-01-06"))) if e["type"] == "SecretaryAppointed"]
    base, _ = await feed(base, [secretary])
    one, two = alert("m1", d.b1, 3, "2026-03-20"), alert("m1", d.b1, 3, "2026-03-20")  # other message ids
    assert one["id"] != two["id"]
    uow_one, ev_one = await feed(base, [one])
    uow_two, ev_two = await feed(base, [two])
    assert [(e["id"], e["data"]["notice_id"]) for e in ev_one] == [(e["id"], e["data"]["notice_id"]) for e in ev_two]
    assert sorted(e["data"]["notice_id"] for e in ev_one) == [
        "reminder:dues_arrears:m1:2026-01:warning:3:member", "reminder:dues_arrears:m1:2026-01:warning:3:secretary"]
    assert all(e["causation_id"] != one["id"] and e["correlation_id"] == one["id"] for e in ev_one)
    assert deliveries(uow_one) == deliveries(uow_two)
    # the same alert again, from another message: nothing new; more months: a new reminder
    _, again = await feed(uow_one, [two, alert("m1", d.b1, 4, "2026-04-20")])
    assert sorted(e["data"]["notice_id"] for e in again) == [
        "reminder:dues_arrears:m1:2026-01:warning:4:member", "reminder:dues_arrears:m1:2026-01:warning:4:secretary"]


async def test_at_six_months_the_secretary_and_the_district_are_told(settle):
    """domain.md: a warning at 3 months; at 6, an alert to the branch secretary and the district."""
    d = District()
    base = await d.ledger()
    [secretary] = [e for e in await d.facts(dated(envelope("AppointSecretary", {"branch_id": d.b1, "member_id": "m4"}),
                                                  at("2026-01-06"))) if e["type"] == "SecretaryAppointed"]
    base, _ = await feed(base, [secretary])
    uow, events = await feed(base, [alert("m1", d.b1, 6, "2026-06-20"), alert("m1", d.b1, 7, "2026-07-20")])
    created = {e["data"]["notice_id"]: e["data"] for e in events if e["type"] == "NoticeCreated"}
    name = "reminder:dues_arrears:m1:2026-01:alert"
    assert sorted(created) == [f"{name}:district", f"{name}:secretary"]  # once: a seventh month tells nobody again
    assert "连续6个月" in created[f"{name}:secretary"]["body"] and "满六个月" in created[f"{name}:district"]["body"]
    assert recipients(uow, f"{name}:secretary") == ["m4"]
    assert recipients(uow, f"{name}:district") == ["district-office"]
    office = deliveries(uow)[delivery_id(f"{name}:district", "district-office")]
    assert office[0][4] == ("email",)  # the department's configured address (the console in the demo)
    # Reminders name the department, but no late fact about it can come: its document does not
    # grow with the district's alerts (finding 36); the secretary, a member, has the notice indexed.
    assert uow.docs[MEMBERS]["district-office"].get("named", {}) == {}
    assert f"{name}:secretary" in uow.docs[MEMBERS]["m4"]["named"]
    # …and what earlier versions indexed there is dropped by the next reminder that names it
    uow.docs[MEMBERS]["district-office"]["named"] = {f"n{i}": {"day": "2026-01-01", "until": "2026-03-01"}
                                                     for i in range(3)}
    again, _ = await feed(uow, [alert("m2", d.b1, 6, "2026-06-20")])
    assert again.docs[MEMBERS]["district-office"].get("named", {}) == {}


async def test_a_page_of_reminders_reads_what_it_needs_in_a_few_queries_whatever_its_size(settle):
    """The delivery worker's unit of reminders (`DeliveryWorker.remind`) reads their notices,
    members, branches and secretaries a query per collection and step, not a few per reminder, and
    creates what one unit per alert creates."""
    settle(60)
    d = District()
    base = await d.ledger()
    [secretary] = [e for e in await d.facts(dated(envelope("AppointSecretary", {"branch_id": d.b1, "member_id": "m4"}),
                                                  at("2026-01-06"))) if e["type"] == "SecretaryAppointed"]
    base, _ = await feed(base, [secretary])
    base, _ = await feed(base, [alert("m1", d.b1, 6, "2026-06-20"), alert("m2", d.b1, 3, "2026-06-20"),
                                alert("m3", d.b2, 6, "2026-06-20")])
    now = later(120)
    one_by_one, _ = await remind(base, now)
    uow = FakeUnitOfWork(base.docs)
    ctx = Context(_Pipeline(), Envelope.model_validate(envelope("Delivery.remind", {})), uow)
    await uow.prefetch([(ALERTS, i) for i in uow.docs[ALERTS]])  # the unit's wants, as the worker's
    loads = uow.loads
    await notification_handlers.remind_page(ctx, sorted(uow.docs[ALERTS]), now)
    uow.commit_message()
    # notices, members and orgs at once; then the secretaries (already read: the subjects)
    assert uow.loads - loads <= 4
    uow.commit()
    assert deliveries(uow) == deliveries(one_by_one) and len(deliveries(uow)) > len(deliveries(base))


async def test_a_reminder_about_a_member_not_yet_projected_reaches_them_once_they_are(settle):
    d = District()
    base = await d.ledger()
    [registered] = [e for e in await d.facts(dated(register(d.b1, "m5", registered_on="2026-01-05"),
                                                   at("2026-01-05")))
                    if e["type"] == "MemberRegistered"]
    warning = alert("m5", d.b1, 3, "2026-03-20")
    before, _ = await feed(base, [registered, warning])
    after, _ = await feed(base, [warning, registered])
    assert deliveries(before) == deliveries(after)
    assert set(deliveries(after)) >= {delivery_id("reminder:dues_arrears:m5:2026-01:warning:3:member", "m5")}


async def address_pages(base: FakeUnitOfWork, notice_id: str,
                        most: int | None = None) -> tuple[FakeUnitOfWork, list[dict], int]:
    """What the delivery worker does with a large notice: a page a unit until none is left (or
    `most` pages); returns the store, the events and the number of pages."""
    uow, events, pages, more = FakeUnitOfWork(base.docs), [], 0, True
    while more and pages != most:
        ctx = Context(_Pipeline(), Envelope.model_validate(envelope("Delivery.address", {})), uow)
        more = await notification_handlers.address_next_page(ctx, notice_id)
        uow.commit_message()
        uow.commit()
        events += [json.loads(r.value) for r in uow.outbox]
        uow, pages = FakeUnitOfWork(uow.docs), pages + 1
    return uow, events, pages


async def test_a_notice_to_more_members_than_a_page_is_addressed_a_page_at_a_time_with_the_same_result(monkeypatch):
    """A district-wide notice at 100,000 members did not fit one transaction: beyond ADDRESS_PAGE
    members, the delivery worker addresses it a page of whole branches at a time. The deliveries
    and the events (ids included) are those of addressing it at once; NoticeCreated comes last."""
    d = District()
    base = await d.ledger()
    send = notice("n1", at("2026-03-02", 10), org_ids=[d.ids["district"]], member_ids=["m3"])
    at_once, events_at_once = await feed(base, [send])
    monkeypatch.setattr(notification_handlers, "ADDRESS_PAGE", 2)
    started, none_yet = await feed(base, [send])
    assert none_yet == [] and not started.docs[DELIVERIES]
    paged, events, pages = await address_pages(started, "n1")
    assert pages == 3  # the named member, then b1 (3 members: a branch is never split), then b2
    assert deliveries(paged) == deliveries(at_once)
    assert recipients(paged, "n1") == recipients(at_once, "n1") == ["m1", "m2", "m3", "m4"]
    assert sorted((e["id"], e["type"], json.dumps(e["data"], sort_keys=True)) for e in events) == sorted(
        (e["id"], e["type"], json.dumps(e["data"], sort_keys=True)) for e in events_at_once)
    assert events[-1]["type"] == "NoticeCreated" and events[-1]["data"]["recipient_count"] == 4
    _, again, _ = await address_pages(paged, "n1")
    assert again == []


async def test_an_acknowledgement_from_a_page_not_yet_addressed_waits_for_it_and_is_never_refused(monkeypatch):
    """While a large notice is being addressed, a member without a delivery may be on a page to
    come: their acknowledgement (or door visit) waits (`NotYet`: held, and never refused for the
    time it waits), and is acknowledged once their page is addressed. Once the notice is addressed
    whole, a member without a delivery is no recipient: refused."""
    from shared.messaging.pipeline import NotYet

    d = District()
    base = await d.ledger()
    monkeypatch.setattr(notification_handlers, "ADDRESS_PAGE", 2)
    started, _ = await feed(base, [notice("n1", at("2026-03-02", 10), org_ids=[d.ids["district"]])])
    first, _, _ = await address_pages(started, "n1", most=1)  # b1 only
    ack = dated(envelope("AcknowledgeNotice", {"notice_id": "n1", "member_id": "m3"}), at("2026-03-03", 9))
    with pytest.raises(NotYet):
        await stage(HANDLERS, ack, FakeUnitOfWork(first.docs))
    door = dated(envelope("CompleteDoorDelivery", {"notice_id": "n1", "member_id": "m3", "specialist_id": "sp1",
                                                   "on": "2026-03-03"}), at("2026-03-03", 9))
    with pytest.raises(NotYet):
        await stage(HANDLERS, door, FakeUnitOfWork(first.docs))
    paged, _, _ = await address_pages(first, "n1")
    _, events = await feed(paged, [ack])
    assert [e["type"] for e in events] == ["NoticeAcknowledged"]
    stranger = dated(envelope("AcknowledgeNotice", {"notice_id": "n1", "member_id": "m-nobody"}), at("2026-03-03", 9))
    assert await refusal(HANDLERS, stranger, FakeUnitOfWork(paged.docs)) == ("unknown_reference", ["data.member_id"])


async def test_a_late_fact_about_a_member_of_a_page_not_yet_addressed_gives_what_it_gives_at_once(monkeypatch):
    """A fact handled between a large notice's pages, about a member of a page still to come: they
    are addressed by the fact (`_settle`), and the page leaves them as they are; the deliveries are
    those of the notice addressed at once with the fact before or after it."""
    d = District()
    base = await d.ledger()
    send = notice("n1", at("2026-03-02", 10), org_ids=[d.ids["district"]])
    [away] = await d.facts(dated(envelope("MarkMemberAway", {"member_id": "m3", "from": "2026-02-20", "until": None,
                                                             "location": "三亚", "reason": "seasonal"}),
                                 at("2026-02-25")))
    at_once, _ = await feed(base, [send, away])
    assert deliveries(at_once)[delivery_id("n1", "m3")][0][4] == ("sms", "phone_call")  # away: not the door
    monkeypatch.setattr(notification_handlers, "ADDRESS_PAGE", 2)
    started, _ = await feed(base, [send])
    first, _, _ = await address_pages(started, "n1", most=1)  # b1 only
    assert delivery_id("n1", "m1") in first.docs[DELIVERIES] and delivery_id("n1", "m3") not in first.docs[DELIVERIES]
    late, _ = await feed(first, [away])
    assert delivery_id("n1", "m3") in late.docs[DELIVERIES]
    paged, _, _ = await address_pages(late, "n1")
    assert deliveries(paged) == deliveries(at_once)
    assert recipients(paged, "n1") == recipients(at_once, "n1")


def cleared(member_id: str, org_id: str, as_of: str) -> dict:
    return dated(envelope("AlertCleared", {
        "alert_id": f"dues_arrears:{member_id}:2026-01", "kind": "dues_arrears", "subject_id": member_id,
        "org_id": org_id, "as_of": as_of}, source="sunsetred-reporting"), at(as_of, 12))


async def test_a_reminder_waits_for_its_alert_to_stand_and_is_then_what_it_would_have_been_at_once(settle):
    """Finding 29 of docs/reliability.md: a reminder goes once its alert has stood for the settling
    time, with the very notices and event ids it would have had at once."""
    d = District()
    base = await d.ledger()
    raised = alert("m1", d.b1, 3, "2026-03-20")
    at_once, now_events = await feed(base, [raised])
    settle(300)
    waiting, events = await feed(base, [raised])
    assert [e for e in events if e["type"] == "NoticeCreated"] == [] and not waiting.docs[DELIVERIES]
    _, too_soon = await remind(waiting, later(10))
    assert too_soon == []
    settled, reminded = await remind(waiting, later(301))
    assert [(e["id"], e["type"], e["data"]) for e in reminded] == [(e["id"], e["type"], e["data"]) for e in now_events]
    assert deliveries(settled) == deliveries(at_once)
    again, twice = await remind(settled, later(900))
    assert twice == []  # reminded once


@pytest.mark.parametrize("order", ["raised, cleared", "cleared, raised"])
async def test_an_alert_cleared_before_it_stood_reminds_nobody(settle, order):
    """Raised as of 20 March when a meeting was handled before the payment of 18 March, cleared as
    of 20 March once the payment was: nobody is reminded of an arrear already paid, whichever of the
    two notifications hears first (two instances of reporting may publish them out of order)."""
    settle(300)
    d = District()
    base = await d.ledger()
    raised, gone = alert("m1", d.b1, 3, "2026-03-20"), cleared("m1", d.b1, "2026-03-20")
    uow, events = await feed(base, [raised, gone] if order == "raised, cleared" else [gone, raised])
    _, reminded = await remind(uow, later(301))
    assert events == [] and reminded == [] and not uow.docs[DELIVERIES]


async def test_an_alert_raised_again_after_it_cleared_reminds_again(settle):
    """Cleared as of 20 March, raised again as of 20 April (the run went on): a reminder then."""
    settle(300)
    d = District()
    base = await d.ledger()
    uow, _ = await feed(base, [alert("m1", d.b1, 3, "2026-03-20"), cleared("m1", d.b1, "2026-03-20"),
                               alert("m1", d.b1, 4, "2026-04-20")])
    _, reminded = await remind(uow, later(301))
    assert sorted(e["data"]["notice_id"] for e in reminded if e["type"] == "NoticeCreated") == [
        "reminder:dues_arrears:m1:2026-01:warning:4:member"]


async def test_an_acknowledged_delivery_is_re_planned_by_a_late_fact_never_withdrawn():
    """The member acknowledged before anything was sent (the service said nothing yet): a late away
    record re-plans it as if it had come first, keeping the acknowledgement; a late death leaves it."""
    d = District()
    base = await d.ledger()
    [away] = await d.facts(dated(envelope("MarkMemberAway", {"member_id": "m4", "from": "2026-02-25", "until": None,
                                                             "location": "海南", "reason": "family"}), at("2026-02-25")))
    [death] = await d.facts(dated(envelope("RecordMemberDeath", {"member_id": "m1", "on": "2026-03-01"}),
                                  at("2026-03-01", 20)))
    n1 = notice("n1", at("2026-03-02", 10), org_ids=[d.b1])
    acks = [dated(envelope("AcknowledgeNotice", {"notice_id": "n1", "member_id": m, "channel": "wechat"}),
                  at("2026-03-02", 11)) for m in ("m1", "m4")]
    late, _ = await feed(base, [n1, *acks, away, death])
    first, _ = await feed(base, [away, n1, acks[1]])
    m4_late, m4_first = (delivery_from_doc(u.docs[DELIVERIES][delivery_id("n1", "m4")]) for u in (late, first))
    assert dl.addressing(m4_late) == dl.addressing(m4_first) and m4_late.plan == ["sms", "phone_call"]
    assert (m4_late.state, m4_late.acknowledged) == ("pending", {"on": "2026-03-02", "channel": "wechat"})
    assert delivery_id("n1", "m1") in late.docs[DELIVERIES]  # acknowledged before the death was known: stays


class Counting(FakeUnitOfWork):
    """Counts the queries per collection."""

    def __init__(self, docs):
        super().__init__(docs)
        self.queries: dict[str, int] = {}

    async def _load(self, coll, ids):
        self.queries[coll] = self.queries.get(coll, 0) + 1
        return await super()._load(coll, ids)


async def in_one_batch(uow: FakeUnitOfWork, envs: list[dict]) -> None:
    """The messages as one batch of the pipeline: each handled, then the batch's deferred work."""
    for env in envs:
        await stage(HANDLERS, env, uow)
    await run_deferred(uow)
    uow.commit()


async def test_the_late_facts_of_a_batch_read_their_deliveries_and_notices_once_and_settle_as_one_by_one():
    d = District()
    base = await d.ledger()
    addressed, _ = await feed(base, [notice("n1", at("2026-03-02", 10), org_ids=[d.ids["district"]]),
                                     notice("n2", at("2026-03-03", 10), org_ids=[d.ids["district"]])])
    facts = await d.facts(*(dated(envelope("MarkMemberAway", {"member_id": m, "from": "2026-02-20", "until": None,
                                                              "location": "三亚", "reason": "seasonal"}), at("2026-03-04"))
                            for m in ("m1", "m3", "m4")))
    one_by_one, _ = await feed(addressed, facts)
    batch = Counting(addressed.docs)
    await in_one_batch(batch, facts)
    assert deliveries(batch) == deliveries(one_by_one) != deliveries(addressed)  # the away members re-planned
    assert batch.queries[DELIVERIES] == 1 and batch.queries[NOTICES] == 1  # not one each a member
    assert batch.size() >= 2 * 2 * 3  # the reservation: two notices for each of three members


async def test_a_late_fact_leaves_a_due_delivery_to_the_worker_which_works_it_out_as_the_fact_would_have(
        monkeypatch):
    """A death and an away period dated before a notice arrive after it was addressed. Before the
    deliveries are due the facts settle them (m2's withdrawn, m4's re-planned); once due they are
    the delivery worker's, and the facts write none of them (they made large batches of late facts
    run again under the worker's claims: docs/reliability.md, finding 21). Once the worker has
    acted: the same deliveries, recipients and events either way."""
    from tests.unit.notifications.test_worker_ids import worker

    addressed, (death, away) = await addressed_before_a_death_and_an_away_period()
    worker_acts_at = datetime.fromisoformat(at("2026-03-02", 12))
    outcomes = []
    for now in (datetime.fromisoformat(at("2026-03-02", 9)), worker_acts_at):  # before n1 is due (10:00), after
        monkeypatch.setattr(notification_handlers, "clock", lambda now=now: now)
        uow, _ = await feed(addressed, [death, away])
        if now == worker_acts_at:
            assert deliveries(uow) == deliveries(addressed)  # left to the worker
            assert recipients(uow, "n1") == recipients(addressed, "n1") == ["m1", "m2", "m4"]
        pending = [doc for doc in uow.docs[DELIVERIES].values() if doc["state"] == "pending"]
        await worker(uow)._deliver_round(pending, worker_acts_at)
        said = sorted((e["type"], e["id"], e["data"]["member_id"], e["data"].get("channel"))
                      for e in (json.loads(r.value) for r in uow.published))
        outcomes.append(({k: (addressing, state) for k, (addressing, state, _, _) in deliveries(uow).items()},
                         recipients(uow, "n1"), said))
    assert outcomes[0] == outcomes[1]
    got, to, said = outcomes[1]
    assert to == ["m1", "m4"] and delivery_id("n1", "m2") not in got
    assert got[delivery_id("n1", "m4")][0][4] == ("sms", "phone_call")  # away: never the door
    assert {(t, m) for t, _, m, _ in said} >= {("NotificationDispatched", "m1"), ("NotificationDispatched", "m4")}
