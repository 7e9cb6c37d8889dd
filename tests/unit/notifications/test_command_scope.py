"""Where each notifications command writes (entrypoints/command_scope.py), against documents in
memory: a notice by its audience, a door delivery by its branch and the specialist it was given to."""
import pytest

from services.notifications.adapters.documents import DELIVERIES, MEMBERS, ORGS, delivery_id, member_to_doc
from services.notifications.domain.recipients import Member
from services.notifications.entrypoints.command_scope import COMMAND_SCOPES
from shared.auth.claims import Caller
from shared.auth.command_scope import outside
from shared.contracts import notifications as c
from shared.contracts.base import REGISTRY
from tests.support.memory_db import MemoryDb

pytestmark = pytest.mark.unit
DISTRICT = Caller("d", "district")
COMMUNITY = Caller("c", "community", ("c1",))


def _member(x: str) -> dict:
    path = ["d", f"s{x}", f"c{x}", f"b{x}"]
    return member_to_doc(Member(f"m{x}", registered=[{"recorded": "2026-01-01", "on": "2026-01-01"}],
                                branch={"branch_id": f"b{x}", "path": path}, branch_id=f"b{x}", ancestors=path[:-1],
                                specialist_id=f"sp{x}"))


def _side(x: str) -> dict[str, list[dict]]:
    return {ORGS: [{"_id": f"b{x}", "kind": "branch", "ancestors": ["d", f"s{x}", f"c{x}"]},
                   {"_id": f"c{x}", "kind": "community", "ancestors": ["d", f"s{x}"]}],
            MEMBERS: [_member(x)],
            DELIVERIES: [{"_id": delivery_id(f"n{x}", f"m{x}"), "branch_id": f"b{x}", "specialist_id": f"sp{x}"}]}


DB = MemoryDb({coll: _side("1")[coll] + _side("2")[coll] for coll in (ORGS, MEMBERS, DELIVERIES)})


def _about(type_: str, x: str):
    """A command of this type about side x (only the fields the scope reads need be there)."""
    cls = next(k for (t, _), k in REGISTRY.items() if t == type_)
    return cls.model_construct(notice_id=f"n{x}", member_id=f"m{x}", specialist_id=f"sp{x}",
                               audience=c.Audience(org_ids=[f"c{x}"], member_ids=[f"m{x}"]))


async def _writes(caller: Caller, message) -> bool:
    return outside(caller, await COMMAND_SCOPES[message.TYPE](DB, message)) is None


@pytest.mark.parametrize("type_", sorted(COMMAND_SCOPES))
async def test_every_command_is_in_scope_on_our_side_only(type_):
    assert await _writes(COMMUNITY, _about(type_, "1"))
    assert not await _writes(COMMUNITY, _about(type_, "2"))
    assert await _writes(DISTRICT, _about(type_, "2"))


async def test_a_notice_to_both_sides_or_to_an_org_not_known_is_out_of_scope():
    both = _about("SendNotice", "1").model_copy(update={"audience": c.Audience(org_ids=["c1", "b2"])})
    assert not await _writes(COMMUNITY, both)
    unknown = _about("SendNotice", "1").model_copy(update={"audience": c.Audience(org_ids=["c9"])})
    assert not await _writes(COMMUNITY, unknown) and await _writes(DISTRICT, unknown)


async def test_a_specialist_completes_only_a_door_delivery_assigned_to_them():
    specialist = Caller("sp", "specialist", specialist_id="sp1")
    assert await _writes(specialist, _about("CompleteDoorDelivery", "1"))
    assert not await _writes(specialist, _about("CompleteDoorDelivery", "2").model_copy(update={"specialist_id": "sp1"}))
    none_yet = _about("CompleteDoorDelivery", "1").model_copy(update={"notice_id": "n9"})
    assert not await _writes(specialist, none_yet)


async def test_a_member_acknowledges_and_answers_only_as_themselves():
    member = Caller("m", "member", member_id="m1")
    assert await _writes(member, _about("AcknowledgeNotice", "1"))
    assert not await _writes(member, _about("RecordFeedback", "2"))
