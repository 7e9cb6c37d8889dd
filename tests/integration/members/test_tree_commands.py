"""The organisation tree on real Kafka and MongoDB: nesting, secretary, rating, merging, awards."""
import pytest

from tests.support import auth
from tests.support.members_fixtures import COMMANDS, EVENTS, accepted, command, new_member, new_tree, rejected, uid
from tests.support.messages import caused_by
from tests.support.scenario import register

pytestmark = pytest.mark.integration


@pytest.fixture
async def http(platform):
    async with auth.client(platform["members"].url, timeout=30) as client:
        yield client


async def test_a_town_nests_under_the_district_and_a_branch_under_a_town_is_invalid(platform, bus):
    ids = await new_tree(bus)
    town = uid("t")
    [ev] = await accepted(bus, command("EstablishOrganization", org_id=town, name="新镇", kind="town",
                                       parent_id=ids["district"]))
    assert ev["type"] == "OrganizationEstablished" and ev["data"]["ancestors"] == [ids["district"]]
    assert await rejected(bus, command("EstablishOrganization", org_id=uid("b"), name="错", kind="branch",
                                       parent_id=town)) == ("invalid", ["data.parent_id"])
    assert await rejected(bus, command("EstablishOrganization", org_id=town, name="新镇", kind="town",
                                       parent_id=ids["district"])) == ("duplicate", ["data.org_id"])


async def test_appoint_secretary(platform, bus):
    ids = await new_tree(bus, 2)
    b1, b2 = ids["branches"]
    m = await new_member(bus, b1)
    events = await accepted(bus, command("AppointSecretary", branch_id=b1, member_id=m), until_type="SecretaryAppointed")
    assert [e["type"] for e in events] == ["CommitteeMemberAppointed", "SecretaryAppointed"]  # the post's history too
    assert events[1]["data"]["member_name"] == "王秀英"
    assert await rejected(bus, command("AppointSecretary", branch_id=b2, member_id=m)) == (
        "not_allowed", ["data.member_id"])
    assert await rejected(bus, command("AppointSecretary", branch_id=b1, member_id=uid("m"))) == (
        "unknown_reference", ["data.member_id"])


async def test_rate_branch_once_a_year(platform, bus, http):
    ids = await new_tree(bus)
    b = ids["branches"][0]
    [ev] = await accepted(bus, command("RateBranch", branch_id=b, year=2026, stars=4))
    assert ev["type"] == "BranchRated" and ev["data"]["stars"] == 4
    assert await rejected(bus, command("RateBranch", branch_id=b, year=2026, stars=5)) == ("duplicate", ["data.year"])
    assert await rejected(bus, command("RateBranch", branch_id=ids["community"], year=2026, stars=5)) == (
        "invalid", ["data.branch_id"])
    assert await rejected(bus, command("RateBranch", branch_id=b, year=2026, stars=6)) == ("invalid", ["data.stars"])
    trail = (await http.get(f"/api/v1/orgs/{b}/history", params={"order": "desc"})).json()["items"]
    assert trail[0]["command_type"] == "RateBranch" and trail[0]["after"]["ratings"][0]["stars"] == 4


async def test_merge_moves_every_member_and_closes_the_branch(platform, bus):
    ids = await new_tree(bus, 2)
    src, dst = ids["branches"]
    moving = [await new_member(bus, src) for _ in range(2)]
    await accepted(bus, command("AppointSecretary", branch_id=src, member_id=moving[0]))
    merge = command("MergeBranches", from_branch_id=src, into_branch_id=dst, on="2026-06-30")
    await bus.send(COMMANDS, merge)

    def complete(es: list[dict]) -> bool:
        # The transfers are keyed by member and the merge by branch: other partitions, which the
        # test's consumer may read in any order (waiting for BranchesMerged alone missed one).
        mine = caused_by(es, merge)
        return (any(e["type"] == "BranchesMerged" for e in mine)
                and sum(e["type"] == "MemberTransferred" for e in mine) >= len(moving))
    events = caused_by(await bus.events(EVENTS, complete, 60), merge)
    transfers = [e for e in events if e["type"] == "MemberTransferred"]
    assert sorted(e["data"]["member_id"] for e in transfers) == sorted(moving)
    assert all(e["data"]["merged"] and e["data"]["to_branch_id"] == dst and e["data"]["to_ancestors"][-1] == dst
               for e in transfers)
    assert [e["data"]["secretary_vacated"] for e in transfers if e["data"]["member_id"] == moving[0]] == [True]
    [merged] = [e for e in events if e["type"] == "BranchesMerged"]
    assert sorted(merged["data"]["member_ids"]) == sorted(moving) and merged["data"]["secretary_vacated"]
    # a merged branch takes no members, and cannot be merged again
    assert await rejected(bus, register(src)) == ("not_allowed", ["data.branch_id"])
    assert await rejected(bus, command("MergeBranches", from_branch_id=src, into_branch_id=dst,
                                       on="2026-07-01")) == ("not_allowed", ["data.from_branch_id"])
    assert await rejected(bus, command("MergeBranches", from_branch_id=dst, into_branch_id=dst,
                                       on="2026-07-01")) == ("invalid", ["data.into_branch_id"])


async def test_awards_to_branches_and_members(platform, bus):
    ids = await new_tree(bus)
    b = ids["branches"][0]
    m = await new_member(bus, b)
    [ev] = await accepted(bus, command("GrantAward", award_id=uid("a"), year=2026, category="five_good_branch",
                                       subject_id=b))
    assert (ev["type"], ev["data"]["subject_kind"]) == ("AwardGranted", "branch")
    award = command("GrantAward", award_id=uid("a"), year=2026, category="best_old_member", subject_id=m)
    [ev] = await accepted(bus, award)
    assert (ev["data"]["subject_kind"], ev["data"]["subject_name"]) == ("member", "王秀英")
    assert await rejected(bus, command("GrantAward", award_id=award["data"]["award_id"], year=2027,
                                       category="best_volunteer", subject_id=m)) == ("duplicate", ["data.award_id"])
    assert await rejected(bus, command("GrantAward", award_id=uid("a"), year=2026, category="best_old_member",
                                       subject_id=m)) == ("duplicate", ["data.subject_id"])
    assert await rejected(bus, command("GrantAward", award_id=uid("a"), year=2026, category="best_volunteer",
                                       subject_id=uid("nobody"))) == ("unknown_reference", ["data.subject_id"])
    assert await rejected(bus, command("GrantAward", award_id=uid("a"), year=2026, category="model_branch",
                                       subject_id=m)) == ("unknown_reference", ["data.subject_id"])
