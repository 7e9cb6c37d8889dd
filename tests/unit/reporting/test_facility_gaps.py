"""阵地需求 in reporting (issue 13, item 8): demand per community set against the venues' facilities,
from the events in either order, and the gaps."""
import asyncio
import json

import pytest

from services.reporting.domain import facility_gaps as dom
from services.reporting.facility_demand import DEMANDS, VENUES
from services.reporting.handlers import build_handlers
from shared.contracts import activities as a
from shared.contracts import facility_demand as c
from shared.contracts.parsing import parse_object
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


def asked(i: str, community: str, activity: str, on: str = "2025-05-01", **over) -> dict:
    return event(c.FacilityDemandRecorded, on, demand_id=i, community_id=community, activity=activity, on=on, **over)


EVENTS = [
    event(a.VenueRegistered, "2025-01-01", venue_id="v1", name="天鹅湖党群服务中心", org_id="c1", capacity=60,
          facilities=["投影仪", "乒乓球台", "报刊架"]),
    event(a.VenueRegistered, "2025-01-01", venue_id="v2", name="星光活动室", org_id="c2", capacity=30,
          facilities=["投影仪"]),
    asked("d1", "c1", "table_tennis", member_id="m1"),
    asked("d2", "c1", "badminton", member_id="m1"),
    asked("d3", "c1", "badminton", member_id="m2"),
    asked("d4", "c1", "badminton", member_id="m2", on="2025-06-01"),  # m2 again: one person
    asked("d5", "c1", "swimming", count=15, source="survey"),
    asked("d6", "c2", "swimming", member_id="m7"),
    asked("d7", "c2", "swimming", on="2026-02-01", count=4, source="survey"),  # after the reading day
    asked("d8", "c3", "dance", member_id="m8"),  # a community outside the subtree read
]


@pytest.mark.parametrize("order", ["as_sent", "demand_first"])
def test_gaps_per_community(order):
    store = play(EVENTS if order == "as_sent" else EVENTS[2:] + EVENTS[:2])
    demands, venues = list(store.uow.docs[DEMANDS].values()), list(store.uow.docs[VENUES].values())
    out = dom.gaps({"c1": "天鹅湖社区", "c2": "星光社区"}, demands, venues, "2025-12-31")
    c1, c2 = out["communities"]
    assert (c1["community_name"], c1["gaps"], c1["offered"], c1["venues"]) == (
        "天鹅湖社区", ["swimming", "badminton"], ["reading", "table_tennis"], 1)
    assert [(r["activity"], r["label"], r["people"], r["requests"], r["gap"]) for r in c1["demand"]] == [
        ("swimming", "游泳", 15, 1, True), ("badminton", "羽毛球", 2, 3, True), ("table_tennis", "乒乓球", 1, 1, False)]
    assert c1["demand"][2]["offered_by"] == [{"venue_id": "v1", "name": "天鹅湖党群服务中心"}]
    assert c1["demand"][1]["last_asked_on"] == "2025-06-01"
    assert (c2["gaps"], c2["demand"][0]["people"]) == (["swimming"], 1)
    assert out["gap_totals"] == {"swimming": 16, "badminton": 2}
    assert out["communities_with_gaps"] == 2


def test_a_community_with_neither_demand_nor_venue_is_left_out():
    assert dom.gaps({"c9": "空社区"}, [], [], "2025-12-31") == {"communities": [], "gap_totals": {},
                                                               "communities_with_gaps": 0}
