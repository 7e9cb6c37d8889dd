"""An alert's change is announced once it has stood for the settling time (docs/reliability.md,
finding 29; services/reporting/announcements.py): raised then cleared meanwhile, never; stood, the
very events of an immediate announcement; changed in level meanwhile, only the latest."""
import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest

from services.reporting import announcements
from services.reporting.announcements import ANNOUNCEMENTS, announce_due
from services.reporting.domain import announcements as dom
from services.reporting.handlers import build_handlers
from shared.contracts import activities as a
from shared.contracts.envelope import Envelope
from shared.contracts.parsing import parse_object
from tests.integration.reporting.support import event, paid, quarter_events, uid
from tests.unit.reporting.memory import Store

pytestmark = pytest.mark.unit
SETTLE = 60.0


def settle(monkeypatch, seconds: float) -> None:
    monkeypatch.setattr(announcements, "alert_settle_seconds", lambda: seconds)


def feed(store: Store, events: list[dict], handlers=None) -> None:
    """Each event in a batch of its own, committed (as events of several topics come)."""
    handlers = handlers or build_handlers()
    for e in events:
        parsed = parse_object(json.loads(json.dumps(e)))
        asyncio.run(handlers[e["type"]].handle(parsed.message, store.context(parsed.envelope)))
        store.commit()


def announce(store: Store, after_s: float, fence_passed=lambda _staged_at: True) -> None:
    """The background task's unit, `after_s` seconds from now, over every announcement."""
    now = dom.stamp(datetime.now(timezone.utc) + timedelta(seconds=after_s))
    cause = Envelope(id="alerts-announced:test", type="AlertAnnouncement", occurred_at=datetime.now(timezone.utc),
                     district="x-district", source="sunsetred-reporting", data={})
    asyncio.run(announce_due(store.context(cause), sorted(store.uow.docs[ANNOUNCEMENTS]), now, fence_passed))
    store.commit()


def alert_events(store: Store, alert_id: str) -> list[dict]:
    return [e for e in (json.loads(o.value) for o in store.events)
            if e["type"] in ("AlertRaised", "AlertCleared") and e["data"]["alert_id"] == alert_id]


def quarter(monkeypatch) -> tuple[dict, Store, str]:
    """2026-Q1 announced at once (m7 owes since January, two months at its last event), then the
    settling time."""
    ids, events = quarter_events()
    store = Store()
    settle(monkeypatch, 0)
    feed(store, events)
    settle(monkeypatch, SETTLE)
    alert_id = f"dues_arrears:{ids['m7']}:2026-01"
    assert alert_events(store, alert_id) == [] and store.events
    store.events.clear()
    return ids, store, alert_id


def visit(ids: dict, on: str) -> dict:
    """An event about m7 on `on`: its alerts are evaluated as of that day."""
    return event(a.VisitRecorded, on, visit_id=uid("v"), member_id=ids["m7"], specialist_id="s-1", on=on, kind="phone")


def test_an_alert_raised_then_cleared_within_the_settling_time_is_never_announced(monkeypatch):
    ids, store, alert_id = quarter(monkeypatch)
    # The visit of 10 April is handled before the payment of 8 April (another topic): four months owed.
    feed(store, [visit(ids, "2026-04-10"),
                 paid(ids["m7"], ids["b2"], ["2026-01", "2026-02", "2026-03", "2026-04"], "96.00", "2026-04-08")])
    assert store.doc(ANNOUNCEMENTS, alert_id) is None  # back to what was announced: nothing waits
    announce(store, SETTLE + 1)
    assert alert_events(store, alert_id) == [] and store.uow.docs[ANNOUNCEMENTS] == {}


def test_a_change_that_stood_is_announced_with_the_events_of_an_immediate_announcement(monkeypatch):
    ids, at_once, alert_id = quarter(monkeypatch)
    settled = Store()
    settled.uow.docs.update({c: dict(d) for c, d in at_once.uow.docs.items()})
    the_visit = visit(ids, "2026-04-10")
    settle(monkeypatch, 0)
    feed(at_once, [the_visit])
    settle(monkeypatch, SETTLE)
    feed(settled, [the_visit])
    assert alert_events(settled, alert_id) == []  # not yet
    announce(settled, 1)
    assert alert_events(settled, alert_id) == []  # it has not stood long enough
    assert settled.doc(ANNOUNCEMENTS, alert_id)["announce_at"] > dom.stamp(datetime.now(timezone.utc))
    announce(settled, SETTLE + 1)
    expected = alert_events(at_once, alert_id)
    assert [(e["type"], e["data"]["months"], e["data"]["as_of"]) for e in expected] == [
        ("AlertRaised", 4, "2026-04-10")]
    assert alert_events(settled, alert_id) == expected  # ids, fields, instant, correlation and causation
    assert settled.uow.docs[ANNOUNCEMENTS] == {}
    announce(settled, SETTLE + 1)  # a second instance, or the unit run again: nothing left to say
    assert len(alert_events(settled, alert_id)) == 1
    # The clear that stood: the AlertCleared an immediate announcement made.
    payment = paid(ids["m7"], ids["b2"], ["2026-01", "2026-02", "2026-03", "2026-04"], "96.00", "2026-04-20")
    settle(monkeypatch, 0)
    feed(at_once, [payment])
    settle(monkeypatch, SETTLE)
    feed(settled, [payment])
    announce(settled, SETTLE + 1)
    assert alert_events(settled, alert_id) == alert_events(at_once, alert_id)
    assert [e["type"] for e in alert_events(settled, alert_id)] == ["AlertRaised", "AlertCleared"]


def test_a_change_that_stood_waits_for_the_facts_published_before_it_then_is_announced_or_undone(monkeypatch):
    """The causal fence: the payment of 8 April published before the visit of 10 April, but held up
    upstream longer than the settling time (members down). The raise waits for it; once it has
    arrived the raise is undone and nothing was said. A change with nothing held up behind it is
    announced once the fence has passed since it was staged."""
    ids, store, alert_id = quarter(monkeypatch)
    feed(store, [visit(ids, "2026-04-10")])
    staged_at = store.doc(ANNOUNCEMENTS, alert_id)["staged_at"]
    assert staged_at <= dom.stamp(datetime.now(timezone.utc))
    asked = []

    def not_yet(moment: str) -> bool:
        asked.append(moment)
        return False
    announce(store, SETTLE + 1, not_yet)
    assert set(asked) == {staged_at} and alert_events(store, alert_id) == []  # stood, but held
    feed(store, [paid(ids["m7"], ids["b2"], ["2026-01", "2026-02", "2026-03", "2026-04"], "96.00", "2026-04-08")])
    announce(store, SETTLE + 1)
    assert alert_events(store, alert_id) == [] and store.uow.docs[ANNOUNCEMENTS] == {}

    feed(store, [visit(ids, "2026-09-10")])  # unpaid since May: a raise that nothing undoes
    announce(store, SETTLE + 1, not_yet)
    assert alert_events(store, alert_id.replace("2026-01", "2026-05")) == []
    announce(store, SETTLE + 1, lambda moment: moment >= staged_at)
    assert [e["type"] for e in alert_events(store, alert_id.replace("2026-01", "2026-05"))] == ["AlertRaised"]


def test_a_level_changed_during_the_settling_time_announces_only_the_latest(monkeypatch):
    ids, store, alert_id = quarter(monkeypatch)
    feed(store, [visit(ids, "2026-04-10")])
    announce(store, SETTLE + 1)
    feed(store, [visit(ids, "2026-05-10"), visit(ids, "2026-07-10")])
    announce(store, SETTLE + 1)
    said = [(e["data"]["level"], e["data"]["months"], e["data"]["as_of"]) for e in alert_events(store, alert_id)]
    assert said == [("warning", 4, "2026-04-10"), ("alert", 7, "2026-07-10")]  # not 5 months (10 May)


def test_with_no_settling_time_a_change_is_announced_at_once_in_its_unit(monkeypatch):
    ids, store, alert_id = quarter(monkeypatch)
    settle(monkeypatch, 0)
    feed(store, [visit(ids, "2026-04-10")])
    assert [e["data"]["months"] for e in alert_events(store, alert_id)] == [4]
    assert store.uow.docs[ANNOUNCEMENTS] == {}


def test_a_rebuild_announces_nothing_and_stages_nothing(monkeypatch):
    ids, events = quarter_events()
    settle(monkeypatch, SETTLE)
    store = Store()
    feed(store, events, build_handlers(emit_alerts=False))
    announce(store, SETTLE + 1)
    assert store.uow.docs[ANNOUNCEMENTS] == {} and not [
        o for o in store.events if json.loads(o.value)["type"] in ("AlertRaised", "AlertCleared")]


# ---- the decision, pure ------------------------------------------------------------------------

WARN3 = {"alert_id": "x", "kind": "dues_arrears", "level": "warning", "months": 3, "subject_id": "m", "org_id": "b",
         "since": "2026-01", "details": {}}
WARN4, ALERT6 = WARN3 | {"months": 4}, WARN3 | {"level": "alert", "months": 6}
CAUSE = {"id": "e", "occurred_at": "2026-04-10T02:00:00+00:00", "correlation_id": None, "district": "x"}


def test_what_is_announced_is_the_difference_between_what_was_said_and_what_stands():
    def stage(doc, before, now, day="2026-04-10"):
        return dom.staged(doc, "x", before, now, day, CAUSE, "T1", staged_at="T0")
    # never announced, raised: a raise waits; cleared again: nothing waits
    doc = stage(None, None, WARN3)
    assert dom.to_announce(doc) == [("raised", WARN3, "2026-04-10")] and doc["announce_at"] == "T1"
    assert not dom.waits(stage(doc, WARN3, None))
    # announced at 3 months: 4 then 6 waits as the latest only; back to 3 says nothing
    doc = stage(stage(None, WARN3, WARN4), WARN4, ALERT6, "2026-07-01")
    assert dom.to_announce(doc) == [("raised", ALERT6, "2026-07-01")]
    assert not dom.waits(stage(doc, ALERT6, WARN3))
    # announced, cleared: the clear waits, with the alert as it last stood; raised again: nothing
    doc = stage(None, WARN3, None)
    assert dom.to_announce(doc) == [("cleared", WARN3, "2026-04-10")]
    assert dom.due(doc, "T1") and not dom.due(doc, "T0") and not dom.due(None, "T1")
    assert not dom.waits(stage(doc, None, WARN3))


def test_a_change_staged_and_undone_in_one_batch_writes_no_deletion_of_what_was_never_stored(monkeypatch):
    settle(monkeypatch, SETTLE)
    store = Store()
    ctx = store.context(Envelope(id="e-1", type="VisitRecorded", occurred_at=datetime.now(timezone.utc),
                                 district="x-district", source="test", data={}))
    announcements.announce(ctx, [("x", None, WARN3)], "2026-04-10")
    announcements.announce(ctx, [("x", WARN3, None)], "2026-04-11")
    store.commit()
    assert not dom.waits(store.doc(ANNOUNCEMENTS, "x"))  # put, not a deletion the database would refuse
    announce(store, SETTLE + 1)
    assert not [o for o in store.events if json.loads(o.value)["type"] in ("AlertRaised", "AlertCleared")]


class _Waiting:
    """The announcements collection as the background task's query sees it: each find counted."""

    def __init__(self, docs: list[dict]):
        self.docs, self.finds = docs, 0

    def find(self, query: dict, _fields: dict):
        self.finds += 1
        found = sorted((d for d in self.docs if d["announce_at"] <= query["announce_at"]["$lte"]),
                       key=lambda d: d["announce_at"])

        class _Cursor:
            def sort(self, *_a):
                return self

            def limit(self, n: int):
                self.n = n
                return self

            async def to_list(self, _length):
                return found[:self.n]
        return _Cursor()


class _Units:
    """The pipeline's units: what each announces is deleted, as `announce_due` does."""

    def __init__(self, waiting: _Waiting):
        self.waiting, self.announced = waiting, []

    async def run_unit(self, _cause, _work, keys) -> None:
        ids = [i for _c, i in keys]
        self.announced += ids
        self.waiting.docs = [d for d in self.waiting.docs if d["_id"] not in ids]


def test_the_task_asks_nothing_again_until_the_fence_has_passed_what_it_held_back():
    """The fence passes moments in order: while it holds the earliest change it held back, nothing
    staged later can pass, so the task does not read the waiting announcements again; once it has
    passed, the task reads them and announces what passed."""
    past = datetime.now(timezone.utc) - timedelta(minutes=5)
    docs = [{"_id": f"a-{i}", "announce_at": dom.stamp(past + timedelta(seconds=i)),
             "staged_at": dom.stamp(past + timedelta(seconds=i - 60))} for i in range(5)]
    waiting = _Waiting(docs)
    units = _Units(waiting)
    runtime = type("Runtime", (), {"db": {ANNOUNCEMENTS: waiting}, "settings": type("S", (), {
        "district": "x-district"})(), "service": "reporting"})()
    fence_at = [docs[1]["staged_at"]]  # the fence has passed the first two changes' moments
    looks = announcements.Announcer(lambda staged_at: staged_at <= fence_at[0])

    assert asyncio.run(looks.look(runtime, units)) is False
    assert (waiting.finds, units.announced, looks.held) == (1, ["a-0", "a-1"], docs[2]["staged_at"])
    for _ in range(3):  # the fence has not moved: nothing asked
        assert asyncio.run(looks.look(runtime, units)) is False
    assert waiting.finds == 1
    fence_at[0] = docs[4]["staged_at"]
    asyncio.run(looks.look(runtime, units))
    assert (waiting.finds, units.announced[2:], looks.held) == (2, ["a-2", "a-3", "a-4"], None)
