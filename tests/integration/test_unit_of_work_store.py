"""The Mongo unit of work on a real replica set: one transaction, version-checked writes.

A batch whose retry races newer writes must not undo them: its stale snapshot write finds the
version moved, the transaction aborts as a whole (inbox and outbox included), and the batch is
run again on fresh reads.
"""
import uuid
from datetime import datetime, timezone

import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient

from shared.messaging.mongo_uow import OUTBOX, MongoStore, inbox_of
from shared.messaging.records import Outgoing
from shared.messaging.unit_of_work import Conflict

pytestmark = pytest.mark.integration


async def test_state_inbox_and_outbox_commit_together(store):
    uow = store.unit()
    assert await uow.get("things", "a") is None
    uow.put("things", {"_id": "a", "n": 1})
    uow.inc("counts", "c", {"x.y": 2}, on_insert={"org": "o"})
    uow.send(Outgoing("topic", b"a", b"event"))
    uow.commit_message()
    written = await store.commit(uow, "p", ["m1"])
    db = store.db
    assert await db["things"].find_one({"_id": "a"}) == {"_id": "a", "n": 1, "_v": 1}
    assert await db["counts"].find_one({"_id": "c"}) == {"_id": "c", "org": "o", "x": {"y": 2}, "_v": 1}
    assert await store.seen("p", ["m1", "m2"]) == {"m1"}
    assert [d["v"] for d in written] == [b"event"]
    assert await store.backlog() == 1
    await store.mark_sent([d["_id"] for d in written])
    assert await store.backlog() == 0


async def test_records_sent_leave_the_outbox_and_records_marked_sent_before_are_not_sent_again(store):
    """A commit's records are one outbox document, deleted once sent (one write, not an update and a
    TTL delete later); records a version before that marked `sent_at` are never taken for unsent,
    and a document a record of that version (one without `records`) is one record."""
    written = []
    for values in ([b"first", b"second"], [b"third"]):
        uow = store.unit()
        for v in values:
            uow.send(Outgoing("topic", b"a", v))
        uow.commit_message()
        written.append(await store.commit(uow, "p", [f"m-{values[0].decode()}"]))
    assert [d["v"] for d in written[0]] == [b"first", b"second"] and written[0][0]["_id"] == written[0][1]["_id"]
    assert await store.db[OUTBOX].count_documents({}) == 2
    at = written[1][0]["at"]
    await store.db[OUTBOX].insert_one({"_id": ObjectId(), "at": at, "t": "topic", "k": b"c",
                                       "v": b"sent yesterday", "sent_at": datetime.now(timezone.utc)})
    await store.db[OUTBOX].insert_one({"_id": ObjectId(), "at": at, "t": "topic", "k": b"d", "v": b"unsent, of before"})
    assert [d["v"] for d in await store.unsent(0)] == [b"first", b"second", b"third", b"unsent, of before"]
    assert await store.backlog() == 4
    assert [d["v"] for d in await store.unsent(0, limit=2)] == [b"first", b"second"]  # whole documents
    assert [d["v"] for d in await store.unsent(0, limit=3)] == [b"first", b"second", b"third"]
    await store.mark_sent([d["_id"] for d in written[0]])
    assert await store.db[OUTBOX].count_documents({"_id": written[0][0]["_id"]}) == 0
    assert [d["v"] for d in await store.unsent(0)] == [b"third", b"unsent, of before"]
    assert await store.backlog() == 2


async def test_the_inbox_keeps_a_commits_ids_in_one_document_and_refuses_an_id_committed_before(store):
    """One inbox document a commit, its ids in a unique multikey index: an id another commit made
    is refused in the transaction (a Conflict: the batch runs again and finds it seen)."""
    db = store.db
    first = store.unit()
    first.commit_message()
    await store.commit(first, "p", ["i-1", "i-2", "i-3"])
    assert [d["ids"] for d in await db[inbox_of("p")].find().to_list(None)] == [["i-1", "i-2", "i-3"]]
    assert await store.seen("p", ["i-2", "i-9"]) == {"i-2"}
    again = store.unit()
    again.put("things", {"_id": "t"})
    again.commit_message()
    with pytest.raises(Conflict):
        await store.commit(again, "p", ["i-9", "i-3"])
    assert await db["things"].find_one({"_id": "t"}) is None
    assert await store.seen("p", ["i-9"]) == set()


async def test_an_inbox_of_ids_as_documents_is_still_asked_until_its_ttl_prunes_them(store):
    """Versions before 5 December 2026 kept each id as a document of its own (its `_id`)."""
    db = store.db
    await db[inbox_of("old")].insert_many([{"_id": f"o-{i}", "at": datetime.now(timezone.utc)} for i in (1, 7, 8)])
    fresh = MongoStore(store.client, db)
    await fresh.setup(["old", "p"])  # its unique index of ids is built over them (partial: they have none)
    assert await fresh.seen("old", ["o-1", "o-2"]) == {"o-1"}
    uow = fresh.unit()
    uow.commit_message()
    await fresh.commit(uow, "old", ["o-2"])
    assert await fresh.seen("old", ["o-1", "o-2", "o-3"]) == {"o-1", "o-2"}
    assert "p" not in fresh._inbox_by_id and "old" in fresh._inbox_by_id


async def test_the_outbox_is_indexed_by_its_id_alone_and_what_an_earlier_version_marked_sent_goes_at_setup(store):
    """Each record's insert and delete wrote the `sent_at` TTL index of earlier versions; records are
    deleted once sent now, so setup drops it with the records it was left to prune."""
    db = store.db
    await db[OUTBOX].create_index("sent_at", expireAfterSeconds=86400)  # as an earlier version made it
    uow = store.unit()
    uow.send(Outgoing("topic", b"a", b"unsent"))
    uow.commit_message()
    await store.commit(uow, "p", ["m-outbox"])
    await db[OUTBOX].insert_one({"_id": ObjectId(), "at": datetime.now(timezone.utc), "t": "topic", "k": b"c",
                                 "v": b"sent yesterday", "sent_at": datetime.now(timezone.utc)})
    await store.setup(["p"])
    assert list(await db[OUTBOX].index_information()) == ["_id_"]
    assert [r["v"] for d in await db[OUTBOX].find().to_list(None) for r in d["records"]] == [b"unsent"]
    assert [d["v"] for d in await store.unsent(0)] == [b"unsent"] and await store.backlog() == 1


async def test_documents_read_are_as_the_driver_gives_them_and_their_stored_size_is_counted(store):
    """The unit reads raw BSON to count the bytes a batch brings in (Pipeline.max_read_bytes), and
    decodes it as the database's codec does: time-zone-aware datetimes, nested documents."""
    import bson
    at = datetime(2025, 3, 1, 8, 30, tzinfo=timezone.utc)
    docs = [{"_id": f"m{i}", "at": at, "facts": {"notices": {f"n{k}": {"acked_on": "2025-03-02"} for k in range(i)}}}
            for i in range(1, 4)]
    await store.db["members"].insert_many(docs)
    uow = store.unit()
    await uow.prefetch([("members", "m1"), ("members", "m3"), ("members", "absent")])
    assert uow.bytes_read == sum(len(bson.encode(d)) for d in (docs[0], docs[2]))
    assert uow.documents_read == 2
    assert await uow.get("members", "m3") == docs[2] == await store.db["members"].find_one({"_id": "m3"})
    assert (await uow.get("members", "m3"))["at"].tzinfo is not None
    assert await uow.get("members", "absent") is None


async def test_a_collection_kept_encoded_is_written_back_with_its_version_and_conditionally(store):
    """A unit keeping `members` encoded (reporting's) reads the stored bytes, writes a snapshot's
    bytes with its new `_v` appended, and the write is conditional on the version read like any."""
    from shared.messaging.mongo_uow import MongoUnitOfWork

    at = datetime(2025, 3, 1, 8, 30, tzinfo=timezone.utc)
    await store.db["members"].insert_one({"_id": "m1", "at": at, "facts": {"payments": {"p1": {"cents": 5645}}}, "_v": 3})
    uow, rival = MongoUnitOfWork(store.db, frozenset({"members"})), MongoUnitOfWork(store.db, frozenset({"members"}))
    doc = await uow.get("members", "m1")
    assert doc == {"_id": "m1", "at": at, "facts": {"payments": {"p1": {"cents": 5645}}}}
    doc["facts"]["payments"]["p2"] = {"cents": 100}
    uow.put("members", doc)
    uow.commit_message()
    await store.commit(uow, "p", ["pay"])
    assert await store.db["members"].find_one({"_id": "m1"}) == {**doc, "_v": 4}
    assert await uow.get("members", "m1") == doc and uow.bytes_read > 0

    stale = await rival.get("members", "m1")  # read at version 4…
    other = MongoUnitOfWork(store.db, frozenset({"members"}))
    newer = await other.get("members", "m1")
    other.put("members", newer | {"name": "王"})
    other.commit_message()
    await store.commit(other, "p", ["rename"])
    rival.put("members", stale | {"name": "李"})  # …which another unit has since moved to 5
    rival.commit_message()
    with pytest.raises(Conflict):
        await store.commit(rival, "p", ["late"])
    got = await store.db["members"].find_one({"_id": "m1"})
    assert got["name"] == "王" and got["_v"] == 5


async def test_a_snapshot_put_with_its_changed_paths_sets_them_alone_and_conditionally(store):
    """`put(changed=...)`: the server gets a `$set` of those paths (and `_v`), conditional on the
    version read like a whole write, and stores what the snapshot says; a rival that moved the
    version meanwhile makes it a `Conflict`, its own change kept."""
    from shared.messaging.mongo_uow import MongoUnitOfWork

    await store.db["members"].insert_one({"_id": "m1", "facts": {"attendance": {"a1": {"s": "absent"}}},
                                          "alerts": [], "_v": 3})
    uow = MongoUnitOfWork(store.db, frozenset({"members"}))
    doc = await uow.get("members", "m1")
    doc["facts"]["attendance"]["a2"] = {"s": "present", "on": "2025-03-01"}
    doc["alerts"] = [{"alert_id": "x", "level": "yellow"}]
    uow.put("members", doc, changed=["facts.attendance.a2", "alerts"])
    uow.commit_message()
    [w] = uow.writes
    assert w.sets is not None
    await store.commit(uow, "p", ["attended"])
    assert await store.db["members"].find_one({"_id": "m1"}) == {**doc, "_v": 4}

    stale, rival = MongoUnitOfWork(store.db, frozenset({"members"})), store.unit()
    late = await stale.get("members", "m1")
    await rival.get("members", "m1")
    rival.put("members", {**doc, "name": "王"})
    rival.commit_message()
    await store.commit(rival, "p", ["renamed"])
    late["facts"]["attendance"]["a3"] = {"s": "present"}
    stale.put("members", late, changed=["facts.attendance.a3"])
    stale.commit_message()
    with pytest.raises(Conflict):
        await store.commit(stale, "p", ["late"])
    got = await store.db["members"].find_one({"_id": "m1"})
    assert got["name"] == "王" and "a3" not in got["facts"]["attendance"] and got["_v"] == 5


async def test_a_stale_retry_loses_and_leaves_the_newer_write_alone(store):
    first = store.unit()
    await first.get("deliveries", "d1")
    first.put("deliveries", {"_id": "d1", "state": "pending"})
    first.commit_message()
    await store.commit(first, "p", ["create"])

    stale = store.unit()  # a batch that read the delivery pending…
    doc = await stale.get("deliveries", "d1")
    newer = store.unit()  # …while the worker sent it and the member acknowledged it
    sent = await newer.get("deliveries", "d1")
    newer.put("deliveries", sent | {"state": "acknowledged"})
    newer.commit_message()
    await store.commit(newer, "p", ["ack"])

    stale.put("deliveries", doc | {"state": "pending", "note": "replayed"})
    stale.send(Outgoing("topic", b"d1", b"stale event"))
    stale.commit_message()
    with pytest.raises(Conflict):
        await store.commit(stale, "p", ["replay"])
    got = await store.db["deliveries"].find_one({"_id": "d1"})
    assert got["state"] == "acknowledged" and "note" not in got and got["_v"] == 2
    assert await store.seen("p", ["replay"]) == set()  # nothing of the losing batch remains
    assert await store.db[OUTBOX].count_documents({"v": b"stale event"}) == 0


async def test_a_commit_sent_in_chunks_is_still_one_transaction(store):
    """A unit's writes go in chunks (`WRITE_CHUNK_OPS`, bounding the driver's buffers), all in one
    transaction: a stale snapshot in the last chunk leaves the chunks before it unwritten, the
    inbox and the outbox too."""
    from shared.messaging.mongo_uow import WRITE_CHUNK_OPS, MongoUnitOfWork

    n = 2 * WRITE_CHUNK_OPS + 1
    await store.db["members"].insert_many([{"_id": f"m{i:05d}", "n": 0, "_v": 1} for i in range(n)])
    uow = MongoUnitOfWork(store.db, frozenset({"members"}))
    await uow.prefetch(("members", f"m{i:05d}") for i in range(n))
    for i in range(n):
        doc = await uow.get("members", f"m{i:05d}")
        uow.put("members", doc | {"n": 1})
    uow.send(Outgoing("topic", b"m", b"chunked event"))
    uow.commit_message()
    await store.db["members"].update_one({"_id": f"m{n - 1:05d}"}, {"$set": {"_v": 2}})  # moved since read
    with pytest.raises(Conflict):
        await store.commit(uow, "p", ["chunked"])
    assert await store.db["members"].count_documents({"n": 1}) == 0
    assert await store.seen("p", ["chunked"]) == set()
    assert await store.db[OUTBOX].count_documents({"v": b"chunked event"}) == 0

    again = MongoUnitOfWork(store.db, frozenset({"members"}))  # run again on fresh reads: all of it
    await again.prefetch(("members", f"m{i:05d}") for i in range(n))
    for i in range(n):
        again.put("members", await again.get("members", f"m{i:05d}") | {"n": 1})
    again.commit_message()
    await store.commit(again, "p", ["chunked"])
    assert await store.db["members"].count_documents({"n": 1, "_v": {"$in": [2, 3]}}) == n


async def test_two_inserts_of_one_new_document_conflict(store):
    a, b = store.unit(), store.unit()
    for u in (a, b):
        assert await u.get("members", "m") is None
        u.put("members", {"_id": "m"})
        u.commit_message()
    await store.commit(a, "p", ["a"])
    with pytest.raises(Conflict):
        await store.commit(b, "p", ["b"])


async def test_a_message_id_seen_by_another_instance_aborts_the_batch(store):
    a, b = store.unit(), store.unit()
    for u in (a, b):
        u.inc("counts", "c", {"n": 1})
        u.commit_message()
    await store.commit(a, "p", ["same"])
    with pytest.raises(Conflict):
        await store.commit(b, "p", ["same"])
    assert (await store.db["counts"].find_one({"_id": "c"}))["n"] == 1
    assert await store.db[inbox_of("p")].count_documents({}) == 1


async def test_blind_writes_and_deletes_are_conditional_too(store):
    u = store.unit()
    u.put("audit", {"_id": "x", "a": 1})  # never read
    u.commit_message()
    await store.commit(u, "p", [])
    u = store.unit()
    u.put("audit", {"_id": "x", "a": 2})
    u.commit_message()
    await store.commit(u, "p", [])
    assert await store.db["audit"].find_one({"_id": "x"}) == {"_id": "x", "a": 2, "_v": 2}
    u = store.unit()
    await u.get("audit", "x")
    other = store.unit()
    other.inc("audit", "x", {"hits": 1})
    other.commit_message()
    await store.commit(other, "p", [])
    u.delete("audit", "x")
    u.commit_message()
    with pytest.raises(Conflict):
        await store.commit(u, "p", [])


async def test_a_guarded_write_is_neither_read_nor_checked_and_its_guard_still_serializes(store):
    """A reporting member's study roll and listed alerts are derived from the member, whose own
    write is conditional in the same transaction: they are written guarded, without being read at
    the commit for a version, whatever their version is. The member's write still decides: when it
    loses, the whole transaction does, the derived writes with it."""
    u = store.unit()
    assert await u.get("members", "m") is None
    u.put("members", {"_id": "m", "facts": 1})
    u.put("rolls", {"_id": "m", "roll": 1}, guarded=True)
    u.commit_message()
    await store.commit(u, "p", [])
    assert u.documents_read == 0  # the roll was not read for its version
    assert await store.db["rolls"].find_one({"_id": "m"}) == {"_id": "m", "roll": 1, "_v": 0}
    await store.db["rolls"].update_one({"_id": "m"}, {"$set": {"_v": 7}})  # whatever its version
    u = store.unit()
    member = await u.get("members", "m")
    u.put("members", member | {"facts": 2})
    u.put("rolls", {"_id": "m", "roll": 2}, guarded=True)
    u.delete("alerts", "m", guarded=True)  # absent: nothing to delete, nothing to check
    u.commit_message()
    await store.commit(u, "p", [])
    assert await store.db["rolls"].find_one({"_id": "m"}) == {"_id": "m", "roll": 2, "_v": 0}
    # Another writer moves the member: the unit that read it before loses, its roll with it.
    stale = store.unit()
    member = await stale.get("members", "m")
    newer = store.unit()
    newer.put("members", await newer.get("members", "m") | {"facts": 3})
    newer.commit_message()
    await store.commit(newer, "p", [])
    stale.put("members", member | {"facts": 99})
    stale.put("rolls", {"_id": "m", "roll": 99}, guarded=True)
    stale.commit_message()
    with pytest.raises(Conflict):
        await store.commit(stale, "p", [])
    assert (await store.db["members"].find_one({"_id": "m"}))["facts"] == 3
    assert (await store.db["rolls"].find_one({"_id": "m"}))["roll"] == 2


async def test_a_guarded_delete_beside_a_conditional_one_does_not_hide_its_conflict(store):
    """Guarded writes go in a bulk write of their own: a conditional delete that finds the document
    changed is a conflict even when a guarded delete of the same collection deleted one."""
    await store.db["audit"].insert_many([{"_id": "a", "_v": 1}, {"_id": "b", "_v": 1}])
    u = store.unit()
    await u.get("audit", "a")
    await store.db["audit"].update_one({"_id": "a"}, {"$set": {"_v": 2}})
    u.delete("audit", "a")
    u.delete("audit", "b", guarded=True)
    u.commit_message()
    with pytest.raises(Conflict):
        await store.commit(u, "p", [])
    assert await store.db["audit"].count_documents({}) == 2


async def test_a_tally_follows_every_committed_write_and_starts_from_a_full_count(infra):
    """Counts kept by `$inc` in the same transaction as the documents equal a `$group` over them;
    a store whose tally is new counts the documents already there once."""
    from shared.messaging.tally import Tally

    tally = Tally("items", "item_totals", lambda d: {d["kind"]: {"n": 1, f"state.{d['state']}": 1}},
                  lambda d: {"kind": d["kind"]})
    client = AsyncMongoClient(infra.mongo, tz_aware=True)
    db = client[f"uow_{uuid.uuid4().hex[:8]}"]
    try:
        await db["items"].insert_many([{"_id": "old1", "kind": "a", "state": "x", "_v": 1},
                                       {"_id": "old2", "kind": "b", "state": "x", "_v": 1}])
        store = MongoStore(client, db, tallies=[tally])
        await store.setup(["p"])
        await MongoStore(client, db, tallies=[tally]).setup(["p"])  # a second instance counts nothing again

        uow = store.unit()
        doc = await uow.get("items", "old1")
        uow.put("items", doc | {"state": "y"})            # read, then changed
        uow.put("items", {"_id": "new", "kind": "a", "state": "x"})  # written blind
        uow.delete("items", "old2")
        uow.commit_message()
        await store.commit(uow, "p", ["m1"])

        stale = store.unit()  # a unit that loses to a newer write adds nothing
        await stale.get("items", "new")
        newer = store.unit()
        newer.put("items", (await newer.get("items", "new")) | {"state": "z"})
        newer.commit_message()
        await store.commit(newer, "p", ["m2"])
        stale.put("items", {"_id": "new", "kind": "a", "state": "w"})
        stale.commit_message()
        with pytest.raises(Conflict):
            await store.commit(stale, "p", ["m3"])

        totals = {d["_id"]: {k: v for k, v in d.items() if k in ("n", "state")} async for d in db["item_totals"].find()}
        grouped: dict = {}
        async for d in db["items"].find():
            t = grouped.setdefault(d["kind"], {"n": 0, "state": {}})
            t["n"] += 1
            t["state"][d["state"]] = t["state"].get(d["state"], 0) + 1
        assert {k: {"n": v["n"], "state": {s: n for s, n in v["state"].items() if n}} for k, v in totals.items()
                if v["n"]} == grouped == {"a": {"n": 2, "state": {"y": 1, "z": 1}}}
    finally:
        await client.drop_database(db.name)
        await client.close()


async def test_a_batch_that_depends_on_what_it_read_runs_again_when_it_changed(store):
    """Finding 22 of docs/reliability.md: a batch moving a branch read the branch's figures and
    moved them to its new ancestors while another added to them (and to its old ancestors): both
    committed, and the old community kept hours that had moved. A batch now names what its result
    depends on: it commits only if that is unchanged (`check`), and a fence also makes a concurrent
    writer of it conflict."""
    seed = store.unit()
    seed.inc("figures", "branch", {"hours": 1})
    seed.inc("orgs", "b", {"n": 1})
    seed.commit_message()
    await store.commit(seed, "p", [])

    mover = store.unit()  # reads the branch's figures to move them…
    assert (await mover.get("figures", "branch"))["hours"] == 1
    mover.depend_on("figures", "branch", fence=True)
    adder = store.unit()  # …while another batch adds to them
    adder.inc("figures", "branch", {"hours": 5})
    adder.commit_message()
    await store.commit(adder, "p", [])
    with pytest.raises(Conflict):
        await store.commit(mover, "p", [])

    reader = store.unit()  # reads the branch's place (checked, not fenced)…
    await reader.get("orgs", "b")
    reader.depend_on("orgs", "b")
    reader.inc("figures", "old-community", {"hours": 5})
    reader.commit_message()
    moved = store.unit()  # …while the branch moves
    doc = await moved.get("orgs", "b")
    moved.put("orgs", doc | {"parent": "new-community"})
    moved.commit_message()
    await store.commit(moved, "p", [])
    with pytest.raises(Conflict):
        await store.commit(reader, "p", [])
    assert await store.db["figures"].find_one({"_id": "old-community"}) is None

    unchanged = store.unit()  # nothing changed: it commits, and a check leaves the version alone
    before = await unchanged.get("orgs", "b")
    unchanged.depend_on("orgs", "b")
    unchanged.inc("figures", "new-community", {"hours": 5})
    unchanged.commit_message()
    await store.commit(unchanged, "p", [])
    assert (await store.db["orgs"].find_one({"_id": "b"}))["_v"] == 2 and before["parent"] == "new-community"


async def test_instances_started_together_count_a_new_tally_once(infra):
    """Two instances of a service started at once both find the tally new and race for its marker:
    the loser's transaction aborts with a write conflict, and it must look again, not fail the
    start (found by CI's chaos suite: notifications-1 stopped with NoSuchTransaction)."""
    import asyncio

    from shared.messaging.tally import Tally

    tally = Tally("items", "item_totals", lambda d: {d["kind"]: {"n": 1}}, lambda d: {"kind": d["kind"]})
    client = AsyncMongoClient(infra.mongo, tz_aware=True)
    db = client[f"uow_{uuid.uuid4().hex[:8]}"]
    try:
        await db["items"].insert_many([{"_id": f"i{n}", "kind": "ab"[n % 2], "_v": 1} for n in range(200)])
        await asyncio.gather(*(MongoStore(client, db, tallies=[tally]).setup(["p"]) for _ in range(6)))
        totals = {d["_id"]: d["n"] async for d in db["item_totals"].find()}
        assert totals == {"a": 100, "b": 100}
    finally:
        await client.drop_database(db.name)
        await client.close()


async def test_a_sharded_tally_sums_to_the_documents_counts_and_concurrent_units_do_not_meet_on_it(infra):
    """Units that change the same counts at once (the delivery worker and the pipelines, on one
    notice's deliveries) add to one of a tally's shards each, at random: summed (`merged`), the
    shards equal a `$group` over the documents, and the units spread over several documents."""
    from shared.messaging.tally import Tally, merged

    tally = Tally("items", "item_totals", lambda d: {d["kind"]: {"n": 1, f"state.{d['state']}": 1}},
                  lambda d: {"kind": d["kind"]}, shards=8)
    client = AsyncMongoClient(infra.mongo, tz_aware=True)
    db = client[f"uow_{uuid.uuid4().hex[:8]}"]
    try:
        store = MongoStore(client, db, tallies=[tally])
        await store.setup(["p"])
        for i in range(40):  # forty units, each adding an item and moving the one before it on
            uow = store.unit()
            uow.put("items", {"_id": f"i{i}", "kind": "a", "state": "new"})
            if i:
                uow.put("items", (await uow.get("items", f"i{i - 1}")) | {"state": "done"})
            uow.commit_message()
            await store.commit(uow, "p", [f"m{i}"])
        docs = await db["item_totals"].find().to_list(None)
        assert len(docs) > 1 and all(d["_id"].split("~")[0] == "a" for d in docs)
        [total] = merged(docs, ("kind",))
        assert total["n"] == 40 and {s: n for s, n in total["state"].items() if n} == {"new": 1, "done": 39}
    finally:
        await client.drop_database(db.name)
        await client.close()


async def test_a_write_conflict_with_a_transaction_under_way_is_a_conflict_naming_its_collection(store):
    """Two transactions writing one document at once: the second loses at once (MongoDB's write
    conflict, which names no collection). The store says which collection, for the operator, and
    it is a Conflict: the unit runs again on fresh reads."""
    seed = store.unit()
    seed.put("tallied", {"_id": "x", "n": 0})
    seed.commit_message()
    await store.commit(seed, "p", [])
    uow = store.unit()
    uow.put("tallied", (await uow.get("tallied", "x")) | {"n": 2})
    uow.commit_message()
    async with store.client.start_session() as other:
        async with await other.start_transaction():
            await store.db["tallied"].update_one({"_id": "x"}, {"$inc": {"n": 1}}, session=other)
            with pytest.raises(Conflict, match="^tallied: written by another transaction"):
                await store.commit(uow, "p", [])
    assert (await store.db["tallied"].find_one({"_id": "x"}))["n"] == 1


async def test_a_batch_with_nothing_to_write_still_needs_the_database_before_its_offsets_are_committed(store):
    """Records all of a type the pipeline ignores write nothing; the commit still asks the database,
    so while it is down the batch fails and no offset is committed (reliability, finding 32)."""
    from pymongo.errors import ServerSelectionTimeoutError

    from tests.support.services import free_port

    assert await store.commit(store.unit(), "p", []) == []
    away = AsyncMongoClient(f"mongodb://127.0.0.1:{free_port()}/", serverSelectionTimeoutMS=300)
    try:
        with pytest.raises(ServerSelectionTimeoutError):
            await MongoStore(away, away["nowhere"]).commit(store.unit(), "p", [])
    finally:
        await away.close()


async def test_a_commit_sends_a_collections_inserts_updates_and_deletes_in_a_command_each(infra):
    """However the batch's messages interleave them: an ordered bulk write sends one command for
    each run of writes of one kind, and activities' commits took hundreds of round trips so."""
    from pymongo import monitoring

    class Commands(monitoring.CommandListener):
        def __init__(self):
            self.names: list[str] = []

        def started(self, event):
            if event.command.get(event.command_name) == "things":
                self.names.append(event.command_name)

        def succeeded(self, event):
            pass

        def failed(self, event):
            pass

    seen = Commands()
    client = AsyncMongoClient(infra.mongo, tz_aware=True, event_listeners=[seen])
    db = client[f"store_{uuid.uuid4().hex[:8]}"]
    try:
        store = MongoStore(client, db)
        await store.setup(["p"])
        await db["things"].insert_many([{"_id": f"old-{i}", "n": 0, "_v": 1} for i in range(6)])
        uow = store.unit()
        for i in range(6):
            await uow.get("things", f"old-{i}")
            if i % 2:
                uow.delete("things", f"old-{i}")
            else:
                uow.put("things", {"_id": f"old-{i}", "n": 1})
            assert await uow.get("things", f"new-{i}") is None
            uow.put("things", {"_id": f"new-{i}", "n": 2})
            uow.commit_message()
        seen.names.clear()
        await store.commit(uow, "p", ["m-mixed"])
        assert sorted(seen.names) == ["delete", "insert", "update"]
        assert {d["_id"]: (d["n"], d["_v"]) async for d in db["things"].find()} == {
            **{f"old-{i}": (1, 2) for i in (0, 2, 4)}, **{f"new-{i}": (2, 1) for i in range(6)}}
    finally:
        await client.drop_database(db.name)
        await client.close()


async def test_a_document_put_as_new_is_inserted_unread_and_a_wrong_assumption_is_not_repeated(store):
    """`put(new=True)` writes without reading first (a fresh notice's deliveries: no `find` of
    thousands of ids that cannot exist). If the document exists after all, the insert is refused and
    the batch is a `Conflict`; the units after it read such documents first, so the batch run again
    commits."""
    await store.db["items"].insert_one({"_id": "there", "n": 0, "_v": 1})
    u = store.unit()
    u.put("items", {"_id": "fresh", "n": 1}, new=True)
    u.commit_message()
    assert [(w._id, w.read_version) for w in u.writes] == [("fresh", None)]  # an insert, nothing read
    await store.commit(u, "p", ["m1"])
    assert u.documents_read == 0
    assert await store.db["items"].find_one({"_id": "fresh"}) == {"_id": "fresh", "n": 1, "_v": 1}

    wrong = store.unit()
    wrong.put("items", {"_id": "there", "n": 2}, new=True)
    wrong.commit_message()
    with pytest.raises(Conflict):
        await store.commit(wrong, "p", ["m2"])
    assert await store.seen("p", ["m2"]) == set()  # nothing of the batch was written
    again = store.unit()
    again.put("items", {"_id": "there", "n": 2}, new=True)
    again.commit_message()
    await store.commit(again, "p", ["m2"])  # read first this time: a conditional replacement
    assert await store.db["items"].find_one({"_id": "there"}) == {"_id": "there", "n": 2, "_v": 2}


@pytest.fixture
def ahead(store, monkeypatch):
    """The store writing `members` and `rolls` ahead of the commit, a chunk of two at a time."""
    from shared.messaging import mongo_uow
    monkeypatch.setattr(mongo_uow, "AHEAD_OPS", 2)
    store.write_ahead_colls = frozenset({"members", "rolls"})
    store.kept_encoded = frozenset({"members"})
    return store


async def test_snapshots_written_ahead_commit_with_the_batch_and_nobody_sees_them_before(ahead):
    db = ahead.db
    await db["members"].insert_one({"_id": "m1", "n": 1, "_v": 3})
    uow = ahead.unit()
    uow.put("members", {**await uow.get("members", "m1"), "n": 2})
    assert await uow.get("members", "m2") is None
    uow.put("members", {"_id": "m2", "n": 1})
    uow.put("rolls", {"_id": "m1", "n": 2}, guarded=True)
    uow.commit_message()
    await ahead.write_ahead(uow)
    assert uow.transaction is not None and not uow.writes
    await uow.transaction.written()
    assert await db["members"].find_one({"_id": "m1"}) == {"_id": "m1", "n": 1, "_v": 3}  # not before the commit
    assert await db["members"].find_one({"_id": "m2"}) is None and await db["rolls"].find_one({}) is None
    doc = await uow.get("members", "m1")  # as written ahead
    assert doc == {"_id": "m1", "n": 2}
    uow.put("members", doc | {"n": 3})  # written again by the same batch: on the version written ahead
    uow.commit_message()
    await ahead.commit(uow, "p", ["m-1"])
    assert await db["members"].find_one({"_id": "m1"}) == {"_id": "m1", "n": 3, "_v": 5}
    assert await db["members"].find_one({"_id": "m2"}) == {"_id": "m2", "n": 1, "_v": 1}
    assert await db["rolls"].find_one({"_id": "m1"}) == {"_id": "m1", "n": 2, "_v": 0}
    assert await ahead.seen("p", ["m-1"]) == {"m-1"}


async def test_a_batch_that_fails_after_writing_ahead_leaves_nothing_and_holds_nothing(ahead):
    db = ahead.db
    await db["members"].insert_many([{"_id": "m1", "n": 1, "_v": 1}, {"_id": "m2", "n": 1, "_v": 1}])
    uow = ahead.unit()
    for i in ("m1", "m2"):
        uow.put("members", {**await uow.get("members", i), "n": 2})
    uow.commit_message()
    await ahead.write_ahead(uow)
    await uow.transaction.written()
    # Meanwhile another writer's transaction meets the batch's writes, and loses.
    rival = ahead.unit()
    rival.put("members", {**await rival.get("members", "m1"), "n": 9})
    rival.commit_message()
    with pytest.raises(Conflict):
        await ahead.commit(rival, "p", ["rival"])
    await ahead.discard(uow)  # the batch failed after writing ahead: all of it undone
    assert uow.transaction is None
    assert [d["n"] async for d in db["members"].find().sort("_id")] == [1, 1]
    again = ahead.unit()  # and nothing is held: the batch run again commits
    again.put("members", {**await again.get("members", "m1"), "n": 3})
    again.commit_message()
    await ahead.commit(again, "p", ["again"])
    assert (await db["members"].find_one({"_id": "m1"}))["n"] == 3


async def test_a_conflict_met_writing_ahead_fails_the_batch_at_its_commit(ahead):
    db = ahead.db
    await db["members"].insert_many([{"_id": "m1", "n": 1, "_v": 1}, {"_id": "m2", "n": 1, "_v": 1}])
    uow = ahead.unit()
    docs = [await uow.get("members", i) for i in ("m1", "m2")]
    await db["members"].update_one({"_id": "m2"}, {"$set": {"n": 7, "_v": 2}})  # newer, since read
    for doc in docs:
        uow.put("members", doc | {"n": 2})
    uow.commit_message()
    await ahead.write_ahead(uow)
    uow.put("things", {"_id": "t", "n": 1})
    uow.commit_message()
    with pytest.raises(Conflict):
        await ahead.commit(uow, "p", ["stale"])
    assert [d["n"] async for d in db["members"].find().sort("_id")] == [1, 7]
    assert await db["things"].find_one({}) is None and await ahead.seen("p", ["stale"]) == set()
