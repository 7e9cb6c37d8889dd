"""A subtree's members read from a database of its own: the whole district (every member, the
collection read through) and a part of it (its branches, by index) give the members of the day's
branches alone; a member in no branch is read through at the district and kept by no one."""
import pytest

from services.reporting import queries
from services.reporting.adapters.documents import MEMBERS, ORGS, setup

pytestmark = pytest.mark.integration
DAY = "2026-06-30"


def _member(member_id: str, branch: str | None, **facts) -> dict:
    return {"_id": member_id, "branches": [branch] if branch else [],
            "facts": {"name": member_id, "branch_id": branch, "registered_on": "2026-01-05" if branch else None,
                      "transfers": [], **facts}}


async def test_the_whole_district_and_a_part_of_it_read_their_branches_members(store):
    db = store.db
    await setup(db)
    await db[ORGS].insert_many([
        {"_id": "d", "name": "区", "kind": "district", "ancestors": []},
        {"_id": "s1", "name": "一街道", "kind": "subdistrict", "ancestors": ["d"]},
        {"_id": "s2", "name": "二街道", "kind": "subdistrict", "ancestors": ["d"]},
        {"_id": "b1", "name": "一支部", "kind": "branch", "ancestors": ["d", "s1"]},
        {"_id": "b2", "name": "二支部", "kind": "branch", "ancestors": ["d", "s1"]},
        {"_id": "b3", "name": "三支部", "kind": "branch", "ancestors": ["d", "s2"]}])
    await db[MEMBERS].insert_many([
        _member("m1", "b1"), _member("m2", "b2"), _member("m3", "b3"),
        _member("m4", "b1", transfers=[{"on": "2026-03-01", "from_branch_id": "b1", "to_branch_id": None}]),  # left
        _member("m5", None)])  # heard of before registering: in no branch
    await db[MEMBERS].update_one({"_id": "m4"}, {"$set": {"branches": ["b1"]}})

    async def page(org_id: str) -> tuple[list[str], int]:
        rows, total = await queries.members_page(db, org_id, DAY, 0, 50)
        return [r["member_id"] for r in rows], total

    assert await page("d") == (["m1", "m2", "m3"], 3)  # the collection read through: m4 gone, m5 nowhere
    assert await page("s1") == (["m1", "m2"], 2)  # by index, its branches alone
    assert await page("b3") == (["m3"], 1)
    assert [m["member_id"] for m in await queries.members_of(db, "d", DAY)] == ["m1", "m2", "m3"]
    read = [f.member_id async for f in queries.subtree_members(db, await queries.org_tree.branches_under(
        db, await queries.org(db, "d")), only=queries.STINTS)]
    assert sorted(read) == ["m1", "m2", "m3", "m4", "m5"]  # the whole district: every document
