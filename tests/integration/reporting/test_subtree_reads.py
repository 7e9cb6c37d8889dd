"""A subtree's members read from a database of its own: the whole district (every member, the
collection read through) and a part of it (its branches, by index) give the members of the day's
branches alone; a member in no branch is read through at the district and kept by no one. The
alert list, remote study and home delivery over them."""
import asyncio

import pytest

from services.reporting import queries, study_queries
from services.reporting.adapters.documents import (
    MEMBER_ALERTS, MEMBERS, ORGS, STUDY_ROLL, STUDY_ROLL_VERSION, alerts_key, facts_from_doc, listed_alerts,
    member_to_doc, setup, study_roll,
)
from services.reporting.domain import alerts as al
from services.reporting.settings import records_start
from services.reporting.study import STUDY
from shared.periods import parse_period

pytestmark = pytest.mark.integration
DAY = "2026-06-30"


def _member(member_id: str, branch: str | None, **facts) -> dict:
    return {"_id": member_id, "branches": [branch] if branch else [],
            "facts": {"name": member_id, "branch_id": branch, "registered_on": "2026-01-05" if branch else None,
                      "transfers": [], **facts}}


async def _two_branches(db):
    """A district of two branches, in a database set up as reporting sets up its own."""
    await setup(db)
    await db[ORGS].insert_many([
        {"_id": "d", "name": "区", "kind": "district", "ancestors": []},
        {"_id": "b1", "name": "一支部", "kind": "branch", "ancestors": ["d"]},
        {"_id": "b2", "name": "二支部", "kind": "branch", "ancestors": ["d"]}])
    return db


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


async def test_the_alert_list_takes_the_alerts_stored_for_its_day_and_works_out_the_others(store):
    """Members stored as the projection stores them: their alerts as of the day evaluated, keyed
    by that day, and copied for the list. Asked for that day, the list reads the copies (a member
    whose copy was emptied shows none); asked for another, it works every member's out from the
    facts."""
    db = await _two_branches(store.db)
    paid = {"p": {"months": [f"2026-{m:02d}" for m in range(1, 7)], "cents": 2400, "paid_on": "2026-01-05"}}
    docs = [_member("m1", "b1"), _member("m2", "b2"), _member("m3", "b1", payments=paid), _member("m4", "b2")]
    for doc in docs:
        f = facts_from_doc(doc, doc["_id"])
        alerts = [x.to_dict() for x in al.member_alerts(f, DAY)]
        stored = member_to_doc(f, alerts, DAY, alerts_key(DAY, records_start()))
        doc.update(stored)
    docs[3]["alerts_of"] = alerts_key("2026-05-31", records_start())  # evaluated before the day asked
    await db[MEMBERS].insert_many(docs)
    await db[MEMBER_ALERTS].insert_many([listed_alerts(d) for d in docs if listed_alerts(d)])

    def worked_out(day: str) -> list[tuple[str, str]]:
        return sorted((x.alert_id, x.org_id) for doc in docs for x in al.member_alerts(facts_from_doc(doc, doc["_id"]), day))

    async def listed(day: str, org_id: str = "d") -> list[tuple[str, str]]:
        branches = await queries.org_tree.branches_under(db, await queries.org(db, org_id))
        return sorted([(x["alert_id"], x["org_id"]) async for x, _name in queries.member_alerts(db, branches, day)])

    assert {a for a, _ in worked_out(DAY)} >= {f"dues_arrears:m{i}:2026-01" for i in (1, 2, 4)}  # m3 paid
    assert await listed(DAY) == worked_out(DAY)
    assert await listed("2026-04-30") == worked_out("2026-04-30")  # another day: every member worked out
    assert await listed(DAY, "b2") == [x for x in worked_out(DAY) if x[1] == "b2"]

    await db[MEMBER_ALERTS].update_one({"_id": "m1"}, {"$set": {"open_alerts": []}})
    await db[MEMBER_ALERTS].update_one({"_id": "m4"}, {"$set": {"open_alerts": []}})
    assert await listed(DAY) == [x for x in worked_out(DAY) if "m1" not in x[0]]  # m1 as copied, m4 worked out
    # m2 evaluated between the list's two reads: read first as not yet evaluated for the day, then
    # its copy as evaluated: listed once
    await db[MEMBERS].update_one({"_id": "m2"}, {"$set": {"alerts_of": alerts_key("2026-05-31", records_start())}})
    assert await listed(DAY) == [x for x in worked_out(DAY) if "m1" not in x[0]]
    names = {name async for _x, name in queries.member_alerts(db, await queries.org_tree.branches_under(
        db, await queries.org(db, "b2")), DAY)}
    assert names == {"m2", "m4"}


async def test_remote_study_and_home_delivery_read_the_rolls_and_work_out_the_members_stored_without(store):
    """Both read each member's study roll (`study_roll`, written with their document in `members`)
    and work out from the facts those stored without one of this version (before the roll was
    kept): the same figures and rows either way, for members away, exempt, transferred, with and
    without accounts; a member whose roll is written between the two reads is counted once."""
    db = await _two_branches(store.db)
    attended = {f"a{k}": {"held_on": f"2026-0{k}-10", "kind": "themed_party_day", "status": "present",
                          "mode": mode} for k, mode in ((1, "in_person"), (2, "home_delivery"), (3, "remote"))}
    attended["a4"] = {"held_on": "2026-04-10", "kind": "study", "status": "present", "mode": "remote",
                      "cancelled": True}
    notices = {f"n{k}": {"addressed_on": "2026-02-01", "acked_on": None} for k in range(5)}
    await db[MEMBERS].insert_many([
        _member("m1", "b1", attendance=attended, notices=notices, specialist_id="s-1"),
        _member("m2", "b1", away=[{"from": "2026-03-01", "until": None, "location": "海南三亚"}], attendance=attended),
        _member("m3", "b2", exempt=[{"from": "2026-02-01", "until": None, "reason": "illness"}], specialist_id="s-2"),
        _member("m4", "b2", transfers=[{"on": "2026-04-01", "from_branch_id": "b2", "to_branch_id": "b1"}],
                attendance=attended)])
    await db[MEMBERS].update_one({"_id": "m4"}, {"$set": {"branches": ["b1", "b2"]}})
    await db[STUDY].insert_one({"_id": "m1", "accounts": {"xuexi|2026-01-02": {
        "platform": "xuexi", "has_account": True, "on": "2026-01-02"}}, "use": {}})
    district, period = await queries.org(db, "d"), parse_period("2026")

    async def both():
        return (await study_queries.study(db, district, period, DAY),
                await study_queries.home_delivery(db, district, period, DAY))

    async def keep_roll(member_id: str) -> None:  # as the handlers store a member: their roll beside
        doc = await db[MEMBERS].find_one({"_id": member_id})
        await db[STUDY_ROLL].replace_one({"_id": member_id}, study_roll(facts_from_doc(doc, member_id)), upsert=True)
        await db[MEMBERS].update_one({"_id": member_id}, {"$set": {"study_roll": STUDY_ROLL_VERSION}})

    worked_out = await both()  # every member stored without a roll
    statuses = {r["member_id"]: r["status"] for r in worked_out[1]["members"]}
    assert statuses == {"m2": "away", "m3": "exempt", "m4": "resident"} and worked_out[1]["reached"] == 2
    assert worked_out[0]["totals"]["attendances_remote"] == 3 and worked_out[0]["totals"]["registered"] == 4
    await keep_roll("m1")
    await keep_roll("m4")
    assert await both() == worked_out  # two from their rolls, two worked out
    await db[STUDY_ROLL].insert_one({**study_roll(facts_from_doc(await db[MEMBERS].find_one({"_id": "m2"}), "m2")),
                                     "present": {}})
    assert await both() == worked_out  # m2's roll written, its document not yet marked: worked out, once
    for member_id in ("m2", "m3"):
        await keep_roll(member_id)
    rolls = await both()
    assert rolls == worked_out
    await db[MEMBERS].update_many({}, {"$set": {"facts.attendance": {}}})  # what the rolls are read instead of
    assert await both() == rolls


async def test_remote_study_and_home_delivery_asked_at_once_read_the_members_once(store, monkeypatch):
    """The dashboard asks for both at once: one pass over the members answers both, each caller
    with its own copy; asked one after the other, each reads them again (nothing is kept)."""
    db = await _two_branches(store.db)
    await db[MEMBERS].insert_many([_member("m1", "b1"), _member("m2", "b2")])
    district, period = await queries.org(db, "d"), parse_period("2026")
    passes = []
    one_pass = study_queries._pass

    async def counted(*args):
        passes.append(args[1]["_id"])
        return await one_pass(*args)
    monkeypatch.setattr(study_queries, "_pass", counted)
    apart = (await study_queries.study(db, district, period, DAY),
             await study_queries.home_delivery(db, district, period, DAY))
    assert passes == ["d", "d"]
    together = await asyncio.gather(study_queries.study(db, district, period, DAY),
                                     study_queries.home_delivery(db, district, period, DAY),
                                     study_queries.home_delivery(db, district, period, DAY))
    assert passes == ["d", "d", "d"] and tuple(together[:2]) == apart and together[2] == apart[1]
    assert together[1]["members"] is not together[2]["members"]  # each caller's own copy
