"""化并转 beyond a merge (issue 13): dissolve, move, change settings — the rules and the handlers,
against the in-memory unit of work."""
import pytest

from services.members.adapters.documents import MEMBERS, ORGS, org_from_doc
from services.members.handlers import HANDLERS
from tests.support.fake_uow import FakeUnitOfWork, handle, refusal
from tests.support.messages import envelope
from tests.unit.members.test_leadership_handlers import branch_with_members, election

pytestmark = pytest.mark.unit


async def run(uow, env):
    return await handle(HANDLERS, env, uow)


async def refused(uow, env):
    return await refusal(HANDLERS, env, uow)


async def test_a_branch_is_dissolved_only_without_members():
    ids, members, uow = await branch_with_members(2, has_committee=False, branches=2)
    b, other = ids["branches"]
    dissolve = envelope("DissolveBranch", {"branch_id": b, "on": "2026-06-30", "reason": "党员不足3人，撤销支部"})
    assert await refused(uow, dissolve) == ("not_allowed", ["data.branch_id"])
    for m in members:  # transfer them first
        await run(uow, envelope("TransferMember", {"member_id": m, "on": "2026-06-15", "to_branch_id": other}))
    [ev] = await run(uow, dissolve)
    assert (ev["type"], ev["data"]["on"], ev["data"]["ancestors"][-1]) == ("BranchDissolved", "2026-06-30",
                                                                         ids["community"])
    assert org_from_doc(uow.pending(ORGS)[b]).dissolved_on == "2026-06-30"
    # then it takes nothing more
    assert await refused(uow, {**dissolve, "id": "again"}) == ("not_allowed", ["data.branch_id"])
    assert await refused(uow, envelope("RegisterMember", {
        "member_id": "m9", "name": "赵玉梅", "gender": "female", "birth_date": "1948-03-02", "branch_id": b,
        "joined_party_on": "1972-07-01", "monthly_pension": "4800.00"})) == ("not_allowed", ["data.branch_id"])
    assert await refused(uow, envelope("DissolveBranch", {"branch_id": other, "on": "2020-01-01", "reason": "x"})) == (
        "not_allowed", ["data.branch_id"])  # still has members


async def test_a_branch_moves_to_another_community_with_its_members():
    ids, members, uow = await branch_with_members(2, has_committee=False)
    b = ids["branches"][0]
    await run(uow, envelope("EstablishOrganization", {"org_id": "c2", "name": "怡园社区", "kind": "community",
                                                      "parent_id": ids["subdistrict"]}))
    move = envelope("MoveBranch", {"branch_id": b, "to_community_id": "c2", "on": "2026-07-01"})
    [ev] = await run(uow, move)
    assert (ev["type"], ev["data"]["from_community_id"], ev["data"]["to_community_id"], ev["data"]["ancestors"],
            sorted(ev["data"]["member_ids"])) == ("BranchMoved", ids["community"], "c2",
                                                   [ids["district"], ids["subdistrict"], "c2"], sorted(members))
    moved = org_from_doc(uow.pending(ORGS)[b])
    assert (moved.parent_id, moved.moves[0]["from_parent_id"]) == ("c2", ids["community"])
    assert uow.pending(MEMBERS)[members[0]]["org_path"] == [ids["district"], ids["subdistrict"], "c2", b]
    assert await refused(uow, {**move, "id": "again"}) == ("invalid", ["data.to_community_id"])  # already there
    assert await refused(uow, envelope("MoveBranch", {"branch_id": b, "to_community_id": ids["subdistrict"],
                                                      "on": "2026-07-02"})) == ("invalid", ["data.to_community_id"])
    assert await refused(uow, envelope("MoveBranch", {"branch_id": b, "to_community_id": "c404",
                                                      "on": "2026-07-02"})) == ("unknown_reference",
                                                                                ["data.to_community_id"])


async def test_settings_change_later_and_a_committee_is_turned_off_only_when_its_posts_are_empty():
    ids, members, uow = await branch_with_members(7)
    b = ids["branches"][0]
    await run(uow, election(b, [(members[0], "secretary"), (members[1], "organization_member")]))
    off = envelope("ChangeBranchSettings", {"branch_id": b, "on": "2026-09-01", "has_committee": False})
    assert await refused(uow, off) == ("conflict", ["data.has_committee"])
    await run(uow, envelope("RemoveCommitteeMember", {"branch_id": b, "post": "organization_member",
                                                      "on": "2026-08-31", "reason": "other"}))
    [ev] = await run(uow, {**off, "id": "off-again"})
    assert (ev["type"], ev["data"]["has_committee"], ev["data"]["previous_has_committee"]) == (
        "BranchSettingsChanged", False, True)
    [ev] = await run(uow, envelope("ChangeBranchSettings", {"branch_id": b, "on": "2026-10-01", "party_groups": 2}))
    assert (ev["data"]["party_groups"], ev["data"]["previous_party_groups"], ev["data"]["has_committee"]) == (2, 0, False)
    assert await refused(uow, envelope("ChangeBranchSettings", {"branch_id": b, "on": "2026-10-02",
                                                                "party_groups": 2})) == ("conflict", ["data"])
    assert len(org_from_doc(uow.pending(ORGS)[b]).settings_history) == 2
