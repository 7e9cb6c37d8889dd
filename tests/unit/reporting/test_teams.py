"""Volunteer service teams in reporting (issue 13): a team's roster, leader and hours by person and
month, from its events in either order."""
import asyncio
import json

import pytest

from services.reporting.domain import teams as dom
from services.reporting.handlers import build_handlers
from services.reporting.teams import TEAMS
from shared.contracts import activities as a
from shared.contracts import teams as c
from shared.contracts.parsing import parse_object
from shared.periods import parse_period
from tests.integration.reporting.support import event
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


@pytest.mark.parametrize("order", ["as_sent", "hours_first"])
def test_hours_by_team_person_and_month(order):
    events = EVENTS if order == "as_sent" else EVENTS[4:] + EVENTS[:4]
    store = play(events)
    [doc] = store.uow.docs[TEAMS].values()
    v = dom.view(doc, parse_period("2025"), "2025-12-31", {"m1": "王秀英", "m2": "李建国", "m3": "张桂兰"})
    assert (v["name"], v["hours"], v["entries"], v["roster_size"], v["leader"]) == (
        "爱心义剪", "11", 4, 2, {"member_id": "m3", "name": "张桂兰"})
    assert v["by_member"] == [
        {"member_id": "m2", "name": "李建国", "hours": "4.5", "on_roster": True, "leader": False},
        {"member_id": "m3", "name": "张桂兰", "hours": "4", "on_roster": True, "leader": True},
        {"member_id": "m1", "name": "王秀英", "hours": "2.5", "on_roster": False, "leader": False}]
    assert v["by_month"] == {"2025-06": "5.5", "2025-07": "5.5"}
    june = dom.view(doc, parse_period("2025-06"), "2025-06-30", {})
    assert (june["hours"], june["roster_size"], june["leader"]["member_id"]) == ("5.5", 2, "m1")
    # read as of a day within the period: what was logged up to it
    assert dom.view(doc, parse_period("2025"), "2025-06-30", {})["hours"] == "5.5"
