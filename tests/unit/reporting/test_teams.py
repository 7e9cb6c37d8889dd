"""Volunteer service teams in reporting (issue 13): a team's roster, leader and hours by person and
month, from its events in any order, one document per team, per member on it and per hours entry."""
import asyncio
import itertools
import json
import random

import pytest

from services.reporting.domain import teams as dom
from services.reporting.handlers import build_handlers
from services.reporting.teams import HOURS, ROSTER, TEAMS
from shared.contracts import activities as a
from shared.contracts import teams as c
from shared.contracts.parsing import parse_object
from shared.periods import parse_period
from shared.messaging.unit_of_work import VERSION
from tests.integration.reporting.support import event
from tests.support.fake_uow import FakeUnitOfWork, handle
from tests.unit.reporting.memory import Store

pytestmark = pytest.mark.unit


def play(events: list[dict]) -> Store:
    store, handlers = Store(), build_handlers(emit_alerts=False)
    for e in events:
        parsed = parse_object(json.loads(json.dumps(e)))
        asyncio.run(handlers[e["type"]].handle(parsed.message, store.context(parsed.envelope)))
        store.uow.commit_message()
        store.commit()
    return store


def hours(entry: str, member: str, on: str, h: str, team_id: str | None = "t1") -> dict:
    return event(a.VolunteerHoursLogged, on, entry_id=entry, member_id=member, team="爱心义剪", hours=h, on=on,
                 team_id=team_id)


EVENTS = [
    event(c.VolunteerTeamRegistered, "2025-06-01", team_id="t1", name="爱心义剪", community_id="c1",
          formed_on="2025-06-01", leader_id="m1", member_ids=["m1", "m2"]),
    event(c.VolunteerTeamMemberJoined, "2025-07-01", team_id="t1", member_id="m3", on="2025-07-01"),
    event(c.TeamLeaderAppointed, "2025-08-01", team_id="t1", member_id="m3", on="2025-08-01"),
    event(c.VolunteerTeamMemberLeft, "2025-09-01", team_id="t1", member_id="m1", on="2025-09-01"),
    hours("e1", "m1", "2025-06-15", "2.5"), hours("e2", "m2", "2025-06-15", "3"),
    hours("e3", "m3", "2025-07-15", "4"), hours("e4", "m2", "2025-07-15", "1.5"),
    hours("e5", "m2", "2026-01-15", "2"),  # another year
    hours("e6", "m9", "2025-07-15", "9", team_id=None),  # a label only: in no team
]


def view(store: Store, period: str, day: str, names: dict) -> dict:
    """The team's view as team_queries reads it: the team, its members' and its hours documents."""
    [doc] = store.uow.docs[TEAMS].values()
    members = [r for r in store.uow.docs[ROSTER].values() if r["team_id"] == doc["_id"]]
    hours = [h for h in store.uow.docs[HOURS].values() if h["team_id"] == doc["_id"]]
    return dom.view(doc, members, hours, parse_period(period), day, names)


def documents(store: Store) -> dict:
    """Every document the team events left, without the unit of work's versions."""
    return {coll: {i: {k: v for k, v in d.items() if k != VERSION} for i, d in store.uow.docs[coll].items()}
            for coll in (TEAMS, ROSTER, HOURS)}


@pytest.mark.parametrize("order", ["as_sent", "hours_first"])
def test_hours_by_team_person_and_month(order):
    events = EVENTS if order == "as_sent" else EVENTS[4:] + EVENTS[:4]
    store = play(events)
    doc = store.doc(TEAMS, "t1")
    assert set(doc) - {VERSION} == {"_id", "name", "community_id", "formed_on", "leaders"}  # nothing that grows
    assert store.doc(ROSTER, "t1.m1")["spans"] == [{"from": "2025-06-01", "until": "2025-09-01"}]
    assert {k: v for k, v in store.doc(HOURS, "e3").items() if k != VERSION} == {
        "_id": "e3", "team_id": "t1", "member_id": "m3", "on": "2025-07-15", "hundredths": 400}
    assert "e6" not in store.uow.docs[HOURS]  # a label only
    v = view(store, "2025", "2025-12-31", {"m1": "王秀英", "m2": "李建国", "m3": "张桂兰"})
    assert (v["name"], v["hours"], v["entries"], v["roster_size"], v["leader"]) == (
        "爱心义剪", "11", 4, 2, {"member_id": "m3", "name": "张桂兰"})
    assert v["by_member"] == [
        {"member_id": "m2", "name": "李建国", "hours": "4.5", "on_roster": True, "leader": False},
        {"member_id": "m3", "name": "张桂兰", "hours": "4", "on_roster": True, "leader": True},
        {"member_id": "m1", "name": "王秀英", "hours": "2.5", "on_roster": False, "leader": False}]
    assert v["by_month"] == {"2025-06": "5.5", "2025-07": "5.5"}
    june = view(store, "2025-06", "2025-06-30", {})
    assert (june["hours"], june["roster_size"], june["leader"]["member_id"]) == ("5.5", 2, "m1")
    # read as of a day within the period: what was logged up to it
    assert view(store, "2025", "2025-06-30", {})["hours"] == "5.5"


def test_any_order_gives_the_same_documents():
    """Across topics and keys there is no order: hours before the registration, a join or a leaving
    before it, the leaving before the join; and a replayed batch changes nothing."""
    rejoin = [event(c.VolunteerTeamMemberJoined, "2025-10-01", team_id="t1", member_id="m1", on="2025-10-01"),
              event(c.VolunteerTeamMemberLeft, "2025-11-01", team_id="t1", member_id="m1", on="2025-11-01"),
              event(c.VolunteerTeamMemberJoined, "2025-06-01", team_id="t1", member_id="m2", on="2025-06-01")]
    events = EVENTS + rejoin
    expected = documents(play(events))
    assert expected[ROSTER]["t1.m1"]["spans"] == [{"from": "2025-06-01", "until": "2025-09-01"},
                                                  {"from": "2025-10-01", "until": "2025-11-01"}]
    assert expected[ROSTER]["t1.m2"]["spans"] == [{"from": "2025-06-01", "until": None}]  # once a day
    rng = random.Random(13)
    orders = [events[::-1], events[4:] + events[:4]] + [rng.sample(events, len(events)) for _ in range(20)]
    for shuffled in orders:
        assert documents(play(shuffled)) == expected, [e["type"] for e in shuffled]
    assert documents(play(events + events)) == expected  # replayed


@pytest.mark.parametrize("first", list(itertools.permutations(["join", "leave", "join again"])))
def test_a_members_spans_do_not_depend_on_the_order_of_their_events(first):
    changes = {"join": lambda r: dom.joined(r, "2025-01-01"), "leave": lambda r: dom.left(r, "2025-03-01"),
               "join again": lambda r: dom.joined(r, "2025-05-01")}
    doc = dom.new_roster("t1", "m1")
    for name in first:
        changes[name](doc)
    assert doc["spans"] == [{"from": "2025-01-01", "until": "2025-03-01"}, {"from": "2025-05-01", "until": None}]
    assert [dom.on_roster(doc, d) for d in ("2024-12-31", "2025-01-01", "2025-03-01", "2025-05-01")] == [
        False, True, False, True]


def test_a_join_touches_only_that_members_roster_document():
    """A team of thousands: a member joining reads and writes their own document only, and hours
    logged for the team only their entry's (and the member's figures), never the team's."""
    members = [f"m{i}" for i in range(1, 501)]
    store = play([event(c.VolunteerTeamRegistered, "2025-06-01", team_id="t1", name="爱心义剪", community_id="c1",
                        formed_on="2025-06-01", leader_id="m1", member_ids=members)])
    assert len(store.uow.docs[ROSTER]) == 500
    handlers = build_handlers(emit_alerts=False)

    uow = FakeUnitOfWork(store.uow.docs)
    join = event(c.VolunteerTeamMemberJoined, "2025-07-01", team_id="t1", member_id="m999", on="2025-07-01")
    asyncio.run(handle(handlers, json.loads(json.dumps(join)), uow))
    assert [(w.coll, w._id) for w in uow.writes] == [(ROSTER, "t1.m999")]
    assert set(uow._cache) == {(ROSTER, "t1.m999")}  # read: that document alone
    uow.commit()
    assert uow.docs[ROSTER]["t1.m999"]["spans"] == [{"from": "2025-07-01", "until": None}]

    uow = FakeUnitOfWork(store.uow.docs)
    asyncio.run(handle(handlers, json.loads(json.dumps(hours("e1", "m2", "2025-07-15", "2"))), uow))
    # the member's own documents: its facts, and (first written here) its study roll
    assert {c for c, _ in uow._cache} | {w.coll for w in uow.writes} <= {HOURS, "members", "study_roll"}
    assert (HOURS, "e1") in {(w.coll, w._id) for w in uow.writes}


def test_a_team_stored_in_the_earlier_shape_is_refused_with_a_rebuild_message():
    store = Store()
    store.uow.docs[TEAMS]["t1"] = {"_id": "t1", "name": "爱心义剪", "community_id": "c1", "formed_on": "2025-06-01",
                                   "roster": [], "leaders": [], "hours": {}}
    with pytest.raises(ValueError, match="rebuild"):
        play_into(store, event(c.TeamLeaderAppointed, "2025-08-01", team_id="t1", member_id="m3", on="2025-08-01"))


def play_into(store: Store, e: dict) -> None:
    parsed = parse_object(json.loads(json.dumps(e)))
    asyncio.run(build_handlers(emit_alerts=False)[e["type"]].handle(parsed.message, store.context(parsed.envelope)))
