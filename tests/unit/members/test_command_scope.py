"""Where each members command writes (entrypoints/command_scope.py), against documents in memory:
an official writes only within their subtree, what members does not know is the district's alone."""
import pytest

from services.members.adapters.documents import MEMBERS, ORGS, TRAININGS
from services.members.adapters.records import APPLICANTS
from services.members.entrypoints.command_scope import COMMAND_SCOPES
from shared.auth.claims import Caller
from shared.auth.command_scope import outside
from shared.contracts.base import REGISTRY
from tests.support.memory_db import MemoryDb

pytestmark = pytest.mark.unit
DISTRICT = Caller("d", "district")
COMMUNITY = Caller("c", "community", ("c1",))


def _side(x: str) -> dict[str, list[dict]]:
    return {ORGS: [{"_id": f"s{x}", "ancestors": ["d"]}, {"_id": f"c{x}", "ancestors": ["d", f"s{x}"]},
                   {"_id": f"b{x}", "ancestors": ["d", f"s{x}", f"c{x}"]}],
            MEMBERS: [{"_id": f"m{x}", "org_path": ["d", f"s{x}", f"c{x}", f"b{x}"], "specialist_id": f"sp{x}"}],
            APPLICANTS: [{"_id": f"a{x}", "branch_id": f"b{x}"}], TRAININGS: [{"_id": f"t{x}", "org_id": f"b{x}"}]}


DB = MemoryDb({coll: [{"_id": "d", "ancestors": []}] * (coll == ORGS) + _side("1")[coll] + _side("2")[coll]
               for coll in (ORGS, MEMBERS, APPLICANTS, TRAININGS)})


def _about(type_: str, x: str):
    """A command of this type about side x (only the fields the scope reads need be there)."""
    cls = next(c for (t, _), c in REGISTRY.items() if t == type_)
    return cls.model_construct(
        org_id=f"b{x}", parent_id=f"c{x}", branch_id=f"b{x}", member_id=f"m{x}", from_branch_id=f"b{x}",
        into_branch_id=f"b{x}", to_community_id=f"c{x}", to_branch_id=f"b{x}", attendee_ids=[f"m{x}"],
        session_id=f"t{x}", subject_id=f"m{x}", applicant_id=f"a{x}")


async def _writes(caller: Caller, message) -> bool:
    return outside(caller, await COMMAND_SCOPES[message.TYPE](DB, message)) is None


@pytest.mark.parametrize("type_", sorted(COMMAND_SCOPES))
async def test_every_command_is_in_scope_on_our_side_only(type_):
    assert await _writes(COMMUNITY, _about(type_, "1"))
    assert not await _writes(COMMUNITY, _about(type_, "2"))
    assert await _writes(DISTRICT, _about(type_, "2"))


@pytest.mark.parametrize("subject", ["b1", "m1", "a1"])
async def test_an_award_is_placed_by_its_subject_a_branch_a_member_or_an_applicant(subject):
    award = _about("GrantAward", "1").model_copy(update={"subject_id": subject})
    assert await _writes(COMMUNITY, award)
    assert not await _writes(Caller("c", "community", ("c2",)), award)


async def test_what_members_does_not_know_is_the_districts_alone():
    for message in (_about("RecordEvaluation", "1").model_copy(update={"member_id": "nobody"}),
                    _about("RegisterMember", "1").model_copy(update={"branch_id": "no-branch"}),
                    _about("EstablishOrganization", "1").model_copy(update={"parent_id": None, "org_id": "d9"}),
                    _about("AdvanceApplicant", "1").model_copy(update={"applicant_id": "nobody"})):
        assert not await _writes(Caller("s", "subdistrict", ("s1",)), message)
        assert await _writes(DISTRICT, message)


async def test_a_move_writes_to_both_ends():
    into_theirs = _about("TransferMember", "1").model_copy(update={"to_branch_id": "b2"})
    assert not await _writes(COMMUNITY, into_theirs)
    assert await _writes(Caller("s", "community", ("c1", "c2")), into_theirs)
    assert not await _writes(COMMUNITY, _about("MergeBranches", "1").model_copy(update={"into_branch_id": "b2"}))

