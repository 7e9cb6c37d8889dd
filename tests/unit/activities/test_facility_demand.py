"""阵地需求 (issue 13, item 8) in activities: the rules of a demand, which venues offer an activity, and
the handler against the in-memory unit of work."""
import pytest

from services.activities.adapters.documents import FACILITY_DEMANDS
from services.activities.domain import facility_demand as rules
from services.activities.handlers import HANDLERS
from shared.contracts.facility_demand import FacilityActivity
from shared.errors import Rejected
from shared.rules.facilities import FACILITY_ACTIVITIES, SERVING_FACILITIES, offered
from tests.support.fake_uow import FakeUnitOfWork, handle, refusal
from tests.support.messages import envelope

pytestmark = pytest.mark.unit


def demand(**over) -> dict:
    return {"demand_id": "d1", "community_id": "c1", "activity": "table_tennis", "on": "2025-05-01",
            "member_id": "m1", "count": 1, "source": "member", "note": None} | over


def test_every_activity_code_has_a_label_and_the_contract_lists_them_all():
    assert set(FacilityActivity.__args__) == set(FACILITY_ACTIVITIES) >= set(SERVING_FACILITIES)
    assert [FACILITY_ACTIVITIES[x] for x in ("table_tennis", "badminton", "swimming")] == ["乒乓球", "羽毛球", "游泳"]


def test_a_venue_offers_an_activity_by_a_facility_its_label_or_its_code():
    assert offered(["投影仪", "报刊架", "血压计"]) == {"reading"}
    assert offered(["乒乓球台", " 羽毛球 ", "Swimming"]) == {"table_tennis", "badminton", "swimming"}
    assert offered([]) == set()


def test_one_member_or_a_count():
    d = rules.record(None, **demand())
    assert (d.member_id, d.count) == ("m1", 1)
    assert rules.record(None, **demand(member_id=None, count=12, source="survey")).count == 12
    for over, field in (({"count": 3}, "data.count"), ({"member_id": None, "count": 0}, "data.count"),
                        ({"activity": "golf"}, "data.activity")):
        with pytest.raises(Rejected) as r:
            rules.record(None, **demand(**over))
        assert (r.value.reason, r.value.errors[0]["field"]) == ("invalid", field)
    with pytest.raises(Rejected) as r:
        rules.record(d, **demand())
    assert r.value.reason == "duplicate"


async def test_the_handler_records_it_once():
    uow = FakeUnitOfWork()
    data = {"demand_id": "d1", "community_id": "c1", "activity": "swimming", "on": "2025-05-01", "count": 8,
            "source": "survey"}
    [ev] = await handle(HANDLERS, envelope("RecordFacilityDemand", data), uow)
    assert (ev["type"], ev["data"]["count"], ev["data"]["member_id"], uow.outbox[-1].key) == (
        "FacilityDemandRecorded", 8, None, b"d1")
    assert uow.pending(FACILITY_DEMANDS)["d1"]["activity"] == "swimming"
    assert await refusal(HANDLERS, envelope("RecordFacilityDemand", data), uow) == ("duplicate", ["data.demand_id"])


def test_the_contract_refuses_a_member_with_a_count():
    import json

    from shared.contracts.parsing import Invalid, parse
    bad = envelope("RecordFacilityDemand", {"demand_id": "d1", "community_id": "c1", "activity": "badminton",
                                            "on": "2025-05-01", "member_id": "m1", "count": 4})
    got = parse(json.dumps(bad).encode())
    assert isinstance(got, Invalid)
