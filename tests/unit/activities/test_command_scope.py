"""Where each activities command writes (entrypoints/command_scope.py), against documents in memory:
an official writes only within their subtree, a specialist records visits only to their own members."""
import pytest

from services.activities.adapters.documents import ACTIVITIES, BRANCHES, MEMBERS, REQUESTS, TEAMS, VENUES
from services.activities.entrypoints.command_scope import COMMAND_SCOPES
from shared.auth.claims import Caller
from shared.auth.command_scope import outside
from shared.contracts.base import REGISTRY
from tests.support.memory_db import MemoryDb

pytestmark = pytest.mark.unit
DISTRICT = Caller("d", "district")
COMMUNITY = Caller("c", "community", ("c1",))


def _side(x: str) -> dict[str, list[dict]]:
    return {BRANCHES: [{"_id": f"b{x}", "ancestors": ["d", f"s{x}", f"c{x}"]}],
            MEMBERS: [{"_id": f"m{x}", "branch_id": f"b{x}", "specialist_id": f"sp{x}"}],
            ACTIVITIES: [{"_id": f"a{x}", "branch_ids": [f"b{x}"]}], VENUES: [{"_id": f"v{x}", "org_id": f"c{x}"}],
            TEAMS: [{"_id": f"t{x}", "community_id": f"c{x}"}],
            REQUESTS: [{"_id": f"r{x}", "branch_id": f"b{x}", "member_id": f"m{x}"}]}


DB = MemoryDb({coll: _side("1")[coll] + _side("2")[coll]
               for coll in (BRANCHES, MEMBERS, ACTIVITIES, VENUES, TEAMS, REQUESTS)})


def _about(type_: str, x: str):
    """A command of this type about side x (only the fields the scope reads need be there)."""
    cls = next(c for (t, _), c in REGISTRY.items() if t == type_)
    return cls.model_construct(
        org_id=f"c{x}", venue_id=f"v{x}", branch_ids=[f"b{x}"], activity_id=f"a{x}", member_id=f"m{x}",
        specialist_id=f"sp{x}", community_id=f"c{x}", team_id=f"t{x}", request_id=f"r{x}")


async def _writes(caller: Caller, message) -> bool:
    return outside(caller, await COMMAND_SCOPES[message.TYPE](DB, message)) is None


@pytest.mark.parametrize("type_", sorted(COMMAND_SCOPES))
async def test_every_command_is_in_scope_on_our_side_only(type_):
    assert await _writes(COMMUNITY, _about(type_, "1"))
    assert not await _writes(COMMUNITY, _about(type_, "2"))
    assert await _writes(DISTRICT, _about(type_, "2"))


async def test_a_specialist_records_visits_only_to_their_own_members():
    specialist = Caller("sp", "specialist", specialist_id="sp1")
    assert await _writes(specialist, _about("RecordVisit", "1"))
    theirs = _about("RecordVisit", "2").model_copy(update={"specialist_id": "sp1"})  # naming themselves
    assert not await _writes(specialist, theirs)
    unknown = _about("RecordVisit", "1").model_copy(update={"member_id": "nobody"})
    assert not await _writes(specialist, unknown)


async def test_booking_another_communitys_venue_is_out_of_scope():
    assert not await _writes(COMMUNITY, _about("ScheduleActivity", "1").model_copy(update={"venue_id": "v2"}))


async def test_what_activities_does_not_know_is_the_districts_alone():
    for message in (_about("ScheduleActivity", "1").model_copy(update={"branch_ids": ["b9"], "venue_id": None}),
                    _about("CancelActivity", "1").model_copy(update={"activity_id": "nothing"}),
                    _about("RegisterVenue", "1").model_copy(update={"org_id": "c9"}),
                    _about("ResolveServiceRequest", "1").model_copy(update={"request_id": "nothing"})):
        assert not await _writes(Caller("s", "subdistrict", ("s1",)), message)
        assert await _writes(DISTRICT, message)
