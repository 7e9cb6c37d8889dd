"""The delivery worker's events: their ids do not depend on the order of the deliveries it is
given, nor on when they were due; a visit or an unreachable member is said when due."""
import asyncio
import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from services.notifications.adapters.documents import DELIVERIES, NOTICES, delivery_to_doc, notice_to_doc
from services.notifications.delivery_worker import DeliveryWorker
from services.notifications.domain import delivery as dl
from services.notifications.domain.delivery import Delivery
from services.notifications.domain.notice import Notice
from services.notifications.domain.quiet_hours import QuietHours
from services.notifications.settings import NotifySettings
from shared.messaging.pipeline import Context
from tests.support.fake_uow import FakeUnitOfWork, _Pipeline

pytestmark = pytest.mark.unit
DUE = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)


class Console:
    transport = "console"

    async def send(self, note) -> None:
        pass


class Pipe:
    """`Pipeline.run_unit` over the fake unit of work."""

    def __init__(self, uow: FakeUnitOfWork):
        self.uow = uow

    async def run_unit(self, cause, work, wants=()) -> None:
        await self.uow.prefetch(list(wants))
        await work(Context(_Pipeline(), cause, self.uow))
        self.uow.commit_message()
        self.uow.commit()


def worker(uow: FakeUnitOfWork) -> DeliveryWorker:
    w = DeliveryWorker.__new__(DeliveryWorker)
    w.runtime = SimpleNamespace(settings=SimpleNamespace(district="x-district"))
    w.cfg, w.quiet, w.pipe = NotifySettings(quiet_hours="00:00-00:00"), QuietHours.parse("00:00-00:00"), Pipe(uow)
    w.senders = {c: Console() for c in ("sms", "wechat", "email")}
    w.fence, w._first_seen = None, {}
    w._fenced_since, w._fence_moved = None, asyncio.Event()
    w._held_back = []
    return w


def store(due: datetime = DUE) -> FakeUnitOfWork:
    n = Notice("n1", "通知", "请学习。", "document", {"org_ids": ["b1"], "member_ids": []}, addressed_on="2026-03-02")
    plans = {"m1": ["sms", "door"], "m2": ["door"], "m3": [], "m4": ["email", "door"]}
    docs = {}
    for member_id, plan in plans.items():
        d = Delivery("n1", member_id, "b1", "2026-03-02", plan, specialist_id="sp1", preferred="sms")
        dl.address(d, due, False)
        docs[f"n1|{member_id}"] = {**delivery_to_doc(d), "_v": 1}
    return FakeUnitOfWork({NOTICES: {"n1": {**notice_to_doc(n), "_v": 1}}, DELIVERIES: docs})


async def events(group_order: list[str], due: datetime = DUE) -> dict[tuple, str]:
    uow = store(due)
    group = [uow.docs[DELIVERIES][f"n1|{m}"] for m in group_order]
    await worker(uow)._deliver_round(group, due + timedelta(minutes=1))
    out = {}
    for record in uow.published:
        e = json.loads(record.value)
        out[(e["type"], e["data"]["member_id"])] = e["id"]
    return out


async def test_per_member_event_ids_do_not_depend_on_the_order_of_the_deliveries():
    one = await events(["m1", "m2", "m3", "m4"])
    assert set(one) == {("NotificationDispatched", "m1"), ("NotificationDispatched", "m4"),
                        ("NotificationDelivered", "m1"), ("NotificationDelivered", "m4"),
                        ("DoorDeliveryAssigned", "m2"), ("NotificationFailed", "m3")}
    assert await events(["m4", "m3", "m2", "m1"]) == one
    assert await events(["m3", "m1", "m4", "m2"]) == one
    assert await events(["m1", "m2", "m3", "m4"], DUE - timedelta(hours=1)) == one  # nor on when they were due
    assert len(set(one.values())) == len(one)


async def test_a_delivery_is_checked_against_the_members_facts_just_before_it_is_first_acted_on():
    """Facts that came while the notice was being addressed in the other pipeline: the worker
    withdraws the delivery of a member who was no recipient after all, re-plans one reached
    otherwise, and leaves the others as they were."""
    from services.notifications.adapters.documents import MEMBERS, member_to_doc
    from services.notifications.domain.recipients import Member

    def member(member_id: str, phone: str | None, preferred: str, **facts) -> dict:
        m = Member(member_id, registered=[{"recorded": "2026-01-05", "on": "2026-01-05"}],
                   branch={"branch_id": "b1", "path": ["d1", "b1"]},
                   contacts=[{"recorded": "2026-01-05", "phone": phone, "wechat_openid": None, "email": None,
                              "preferred_channel": preferred}],
                   specialists=[{"recorded": "2026-01-05", "specialist_id": "sp1", "specialist_name": "李专员"}],
                   **facts)
        return {**member_to_doc(m), "_v": 1}

    uow = store()
    n = notice_to_doc(Notice("n1", "通知", "请学习。", "document", {"org_ids": ["b1"], "member_ids": []},
                             addressed_on="2026-03-02", open_until="2026-04-01", due_at=dl.stamp(DUE),
                             recipients=["m1", "m2", "m3", "m4"]))
    uow.docs[NOTICES]["n1"] = {**n, "_v": 1}
    uow.docs[MEMBERS] = {
        "m1": member("m1", "13912345678", "sms"),
        "m2": member("m2", None, "door", died={"recorded": "2026-03-01", "on": "2026-03-01"}),
        "m3": member("m3", None, "door"),  # at home after all: a visit, not unreachable
        "m4": member("m4", None, "email"),  # no email any more: the door
    }
    group = [uow.docs[DELIVERIES][f"n1|{m}"] for m in ("m1", "m2", "m3", "m4")]
    await worker(uow)._deliver_round(group, DUE + timedelta(minutes=1))
    assert "n1|m2" not in uow.docs[DELIVERIES] and uow.docs[NOTICES]["n1"]["recipients"] == ["m1", "m3", "m4"]
    states = {m: (uow.docs[DELIVERIES][f"n1|{m}"]["state"], uow.docs[DELIVERIES][f"n1|{m}"]["plan"])
              for m in ("m1", "m3", "m4")}
    assert states == {"m1": ("delivered", ["sms", "door"]), "m3": ("door_assigned", ["door"]),
                      "m4": ("door_assigned", ["door"])}


async def test_a_visit_handed_over_by_the_specialists_completion_says_what_the_worker_would_have():
    from services.notifications.handlers import HANDLERS
    from tests.support.fake_uow import handle
    from tests.support.messages import envelope

    by_worker = await events(["m2"])
    uow = store()
    done = envelope("CompleteDoorDelivery", {"notice_id": "n1", "member_id": "m2", "specialist_id": "sp1",
                                             "on": "2026-03-03"})
    by_command = {(e["type"], e["data"]["member_id"]): e["id"] for e in await handle(HANDLERS, done, uow)}
    assert by_command[("DoorDeliveryAssigned", "m2")] == by_worker[("DoorDeliveryAssigned", "m2")]


async def test_several_notices_are_claimed_and_recorded_in_two_units_each_in_its_own_correlation():
    """A chunk of the round's deliveries (several notices) is claimed in one unit and recorded in
    one: two transactions, not two per notice; each notice's events keep its own correlation."""
    docs: dict = {NOTICES: {}, DELIVERIES: {}}
    for k in range(3):
        nid = f"n{k}"
        n = Notice(nid, "通知", "请学习。", "document", {"org_ids": ["b1"], "member_ids": []}, addressed_on="2026-03-02")
        docs[NOTICES][nid] = {**notice_to_doc(n), "_v": 1}
        for member_id in ("m1", "m2"):
            d = Delivery(nid, member_id, "b1", "2026-03-02", ["sms"], correlation_id=f"corr-{nid}")
            dl.address(d, DUE, False)
            docs[DELIVERIES][f"{nid}|{member_id}"] = {**delivery_to_doc(d), "_v": 1}
    uow = FakeUnitOfWork(docs)
    w = worker(uow)
    units = []
    run_unit = w.pipe.run_unit

    async def counted(cause, work, wants=()):
        units.append(cause.type)
        await run_unit(cause, work, wants)
    w.pipe.run_unit = counted
    groups = {nid: [dict(d) for d in uow.docs[DELIVERIES].values() if d["notice_id"] == nid] for nid in ("n0", "n1", "n2")}
    assert await w._deliver_round([d for g in groups.values() for d in g], DUE + timedelta(minutes=1)) == 6
    assert units == ["Delivery.claim", "Delivery.record"]
    sent = [json.loads(r.value) for r in uow.published]
    assert {(e["type"], e["data"]["notice_id"], e["correlation_id"]) for e in sent} == {
        (t, f"n{k}", f"corr-n{k}") for k in range(3) for t in ("NotificationDispatched", "NotificationDelivered")}
    assert {d["state"] for d in uow.docs[DELIVERIES].values()} == {"delivered"}


async def test_a_delivery_taken_up_meanwhile_is_left_as_it_is():
    """A due delivery another instance claimed after this round found it is not written again by
    this one's claim (a write would move its version under the instance that is sending it)."""
    uow = store()
    group = [dict(uow.docs[DELIVERIES]["n1|m1"])]
    uow.docs[DELIVERIES]["n1|m1"] = {**uow.docs[DELIVERIES]["n1|m1"], "state": "sending", "_v": 2}
    await worker(uow)._deliver_round(group, DUE + timedelta(minutes=1))
    assert uow.docs[DELIVERIES]["n1|m1"]["_v"] == 2 and not uow.published


class LateGateway:
    """Takes every request, but answers the first of each key after the sender gave up (a read
    timeout), and a key it already took at once (it keeps idempotency keys)."""
    transport = "http"

    def __init__(self):
        self.keys: list[str] = []

    async def send(self, note) -> None:
        from services.notifications.adapters.channels import SendFailed
        first = note.idempotency_key not in self.keys
        self.keys.append(note.idempotency_key)
        if first:
            raise SendFailed("gateway: ReadTimeout: ", unanswered=True)


async def test_a_send_the_gateway_took_without_answering_goes_again_under_its_key_and_is_said_once():
    uow = store()
    w = worker(uow)
    w.cfg = NotifySettings(quiet_hours="00:00-00:00", retry_base_seconds=0)
    w.senders["sms"] = gateway = LateGateway()
    group = [uow.docs[DELIVERIES]["n1|m1"]]
    await w._deliver_round(group, DUE + timedelta(minutes=1))
    await w._deliver_round([uow.docs[DELIVERIES]["n1|m1"]], DUE + timedelta(minutes=2))
    assert gateway.keys == ["n1|m1|sms|1", "n1|m1|sms|1"]  # the same key: taken once by the gateway
    said = {e["id"]: (e["type"], e["data"]["attempt"]) for e in (json.loads(r.value) for r in uow.published)
            if e["data"]["member_id"] == "m1"}  # the fake's outbox is the store's, kept from unit to unit
    assert sorted(said.values()) == [("NotificationDelivered", 1), ("NotificationDispatched", 1)]
    assert uow.docs[DELIVERIES]["n1|m1"]["state"] == "delivered"
