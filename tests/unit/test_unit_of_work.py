"""The batch unit of work: per-message staging, rollback, `$inc` merging, and what it owes."""
import pytest

from shared.messaging.records import Outgoing
from shared.messaging.unit_of_work import apply_inc
from tests.support.fake_uow import FakeUnitOfWork

pytestmark = pytest.mark.unit


async def test_prefetch_then_reads_hit_the_cache_and_copies_are_private():
    uow = FakeUnitOfWork({"orgs": {"b1": {"_id": "b1", "n": 1, "_v": 3}}})
    await uow.prefetch([("orgs", "b1"), ("orgs", "b2")])
    doc = await uow.get("orgs", "b1")
    doc["n"] = 99  # mutating a read copy changes nothing
    assert (await uow.get("orgs", "b1"))["n"] == 1
    assert await uow.get("orgs", "b2") is None
    assert uow.loads == 1


async def test_later_messages_see_earlier_ones_and_a_rollback_discards_only_its_message():
    uow = FakeUnitOfWork()
    uow.put("m", {"_id": "a", "v": 1})
    uow.send(Outgoing("t", b"a", b"1"))
    uow.commit_message()
    uow.put("m", {"_id": "a", "v": 2})
    uow.send(Outgoing("t", b"a", b"2"))
    assert (await uow.get("m", "a"))["v"] == 2
    uow.rollback_message()
    assert (await uow.get("m", "a"))["v"] == 1
    uow.delete("m", "a")
    uow.commit_message()
    [w] = uow.writes
    assert (w.coll, w._id, w.doc, w.inc) == ("m", "a", None, None)
    assert [r.value for r in uow.outbox] == [b"1"]


async def test_writes_carry_the_version_they_were_read_at():
    uow = FakeUnitOfWork({"m": {"a": {"_id": "a", "_v": 7}}})
    doc = await uow.get("m", "a")
    uow.put("m", doc | {"x": 1})
    assert await uow.get("m", "new") is None
    uow.put("m", {"_id": "new"})
    uow.put("m", {"_id": "blind"})
    uow.commit_message()
    versions = {w._id: w.read_version for w in uow.writes}
    assert versions["a"] == 7 and versions["new"] is None
    assert [w.blind for w in uow.writes if w._id == "blind"] == [True]


async def test_a_document_put_as_new_is_written_as_an_insert_only_if_its_message_commits():
    uow = FakeUnitOfWork()
    uow.put("m", {"_id": "kept"}, new=True)
    uow.commit_message()
    uow.put("m", {"_id": "dropped"}, new=True)
    uow.rollback_message()
    uow.put("m", {"_id": "dropped"})  # a later message's own write of it, never read: blind
    uow.commit_message()
    assert {w._id: w.read_version for w in uow.writes if not w.blind} == {"kept": None}
    assert [w._id for w in uow.writes if w.blind] == ["dropped"]
    assert uow.assumed_new and uow.loads == 0
    distrusting = FakeUnitOfWork(assume_new=False)  # after an assumption proved wrong: read as any other
    distrusting.put("m", {"_id": "kept"}, new=True)
    distrusting.commit_message()
    assert [w.blind for w in distrusting.writes] == [True] and not distrusting.assumed_new


async def test_incs_merge_and_reads_see_them_on_top_of_the_stored_document():
    uow = FakeUnitOfWork({"f": {"x": {"_id": "x", "d": {"2025-01-02": {"reg": 2}}, "_v": 1}}})
    uow.inc("f", "x", {"d.2025-01-02.reg": 1, "d.2025-01-03.away": 1})
    uow.commit_message()
    uow.inc("f", "x", {"d.2025-01-02.reg": 1})
    uow.inc("f", "y", {"n": 5}, on_insert={"org": "b1"})
    uow.commit_message()
    assert (await uow.get("f", "x"))["d"] == {"2025-01-02": {"reg": 4}, "2025-01-03": {"away": 1}}
    assert await uow.get("f", "y") == {"_id": "y", "org": "b1", "n": 5}
    incs = {w._id: dict(w.inc.counts) for w in uow.writes}
    assert incs == {"x": {"d.2025-01-02.reg": 2, "d.2025-01-03.away": 1}, "y": {"n": 5}}
    uow.commit()
    assert uow.docs["f"]["x"]["d"]["2025-01-02"]["reg"] == 4 and uow.docs["f"]["x"]["_v"] == 2


async def test_an_inc_on_a_staged_snapshot_counts_on_it():
    uow = FakeUnitOfWork()
    uow.put("f", {"_id": "z", "n": 1})
    uow.inc("f", "z", {"n": 2})
    uow.commit_message()
    [w] = uow.writes
    assert w.doc == {"_id": "z", "n": 3} and w.inc is None


def test_apply_inc_creates_nested_paths():
    assert apply_inc({}, {"a.b.c": 2, "a.d": -1}) == {"a": {"b": {"c": 2}, "d": -1}}


async def test_a_rolled_back_message_takes_back_only_its_own_counts():
    """Counts stage per message and are added to the batch's in place at commit_message: a
    message that rolls back leaves the batch's counts as they were, and reads see both."""
    uow = FakeUnitOfWork()
    uow.inc("figures", "f1", {"a": 1}, on_insert={"org": "o1"})
    uow.commit_message()
    uow.inc("figures", "f1", {"a": 2, "b": 1})
    uow.inc("figures", "f1", {"a": 3}, on_insert={"org": "other"})
    assert (await uow.get("figures", "f1")) == {"_id": "f1", "org": "o1", "a": 6, "b": 1}
    uow.rollback_message()
    assert (await uow.get("figures", "f1")) == {"_id": "f1", "org": "o1", "a": 1}
    uow.inc("figures", "f1", {"a": 10})
    uow.commit_message()
    [w] = uow.writes
    assert dict(w.inc.counts) == {"a": 11} and w.inc.on_insert == {"org": "o1"}


async def test_a_collection_kept_encoded_holds_bytes_and_every_read_is_a_private_copy():
    """Reporting's members are kept as stored between reads (unit_of_work.py): what the unit holds
    is the encoded document, read or written, and each read decodes a copy of its own."""
    from shared.messaging.unit_of_work import Encoded

    member = {"_id": "m1", "facts": {"attendance": {"a1": {"status": "present"}}}, "_v": 4}
    uow = FakeUnitOfWork({"members": {"m1": member}, "orgs": {"b1": {"_id": "b1"}}}, kept_encoded={"members"})
    await uow.prefetch([("members", "m1"), ("orgs", "b1")])
    assert isinstance(uow._cache[("members", "m1")], Encoded) and isinstance(uow._cache[("orgs", "b1")], dict)
    first, second = await uow.read("members", "m1"), await uow.read("members", "m1")
    assert first == second == member and first is not second
    mine = await uow.get("members", "m1")
    mine["facts"]["attendance"]["a2"] = {"status": "absent"}  # changed in place: nobody else sees it
    assert "a2" not in (await uow.get("members", "m1"))["facts"]["attendance"]
    uow.put("members", mine | {"_v": 4})  # a `_v` carried over from a read is not written
    uow.commit_message()
    assert isinstance(uow._batch[("members", "m1")], Encoded)
    assert (await uow.read("members", "m1"))["facts"]["attendance"]["a2"] == {"status": "absent"}
    assert uow.pending("members")["m1"] == {k: v for k, v in mine.items() if k != "_v"}
    [w] = uow.writes
    assert w.read_version == 4 and uow.decoded(w.doc) == {k: v for k, v in mine.items() if k != "_v"}
    uow.inc("members", "m1", {"n": 1})  # counted on the snapshot the batch wrote
    uow.commit_message()
    assert (await uow.get("members", "m1"))["n"] == 1
    uow.commit()
    assert uow.docs["members"]["m1"] == {**mine, "n": 1, "_v": 5}


def test_a_guarded_write_is_owed_unread_and_only_if_its_message_commits():
    """`guarded`: written without a condition, so never read for a version (not `blind`); a message
    rolled back takes its guard with it."""
    uow = FakeUnitOfWork()
    uow.put("rolls", {"_id": "a", "n": 1}, guarded=True)
    uow.rollback_message()
    uow.put("rolls", {"_id": "b", "n": 1}, guarded=True)
    uow.delete("alerts", "b", guarded=True)
    uow.put("rolls", {"_id": "c", "n": 1})
    uow.commit_message()
    writes = {(w.coll, w._id): w for w in uow.writes}
    assert set(writes) == {("rolls", "b"), ("alerts", "b"), ("rolls", "c")}
    assert writes[("rolls", "b")].guarded and not writes[("rolls", "b")].blind
    assert writes[("alerts", "b")].guarded and writes[("alerts", "b")].doc is None
    assert not writes[("rolls", "c")].guarded and writes[("rolls", "c")].blind


async def test_snapshots_taken_ahead_are_held_as_written_and_a_later_write_is_conditional_on_that():
    """`take_ahead`: the snapshots of the `ahead` collections the batch is done with leave the stage
    with the version their write gives them; one never read (its version unknown), an `$inc`, and
    a deletion of what was never there stay for the commit."""
    uow = FakeUnitOfWork({"members": {"m1": {"_id": "m1", "n": 1, "_v": 3}}}, kept_encoded=frozenset({"members"}))
    uow.ahead = frozenset({"members", "rolls"})
    await uow.prefetch([("members", "m1"), ("members", "m2"), ("members", "m3")])
    uow.put("members", {**await uow.get("members", "m1"), "n": 2})
    uow.put("members", {"_id": "m2", "n": 1})  # read as absent: inserted
    uow.delete("members", "m3")  # absent: nothing to write
    uow.put("members", {"_id": "m4"})  # never read: its version is read at the commit
    uow.put("rolls", {"_id": "m1", "n": 2}, guarded=True)
    uow.inc("rolls", "total", {"n": 1})
    uow.put("orgs", {"_id": "o1"})
    uow.commit_message()
    assert uow.ready_ahead()[0] == 5
    ahead = {(w.coll, w._id): w for w in uow.take_ahead()}
    assert set(ahead) == {("members", "m1"), ("members", "m2"), ("rolls", "m1")}
    assert (ahead["members", "m1"].read_version, ahead["members", "m2"].read_version) == (3, None)
    assert ahead["rolls", "m1"].guarded and uow.ready_ahead() == (0, 0) and uow.take_ahead() == []
    assert {(w.coll, w._id) for w in uow.writes} == {("members", "m3"), ("members", "m4"), ("rolls", "total"),
                                                      ("orgs", "o1")}
    assert uow.written_keys() >= set(ahead) and uow.pending("members")["m1"]["n"] == 2
    assert (await uow.get("members", "m1")) == {"_id": "m1", "n": 2} and uow.as_read("members", "m2")["n"] == 1
    uow.put("members", {"_id": "m1", "n": 3})  # again: on the version written ahead
    uow.commit_message()
    [again] = [w for w in uow.writes if w._id == "m1"]
    assert again.read_version == 4 and uow.decoded(again.doc)["n"] == 3
    assert [(w.coll, w._id, w.read_version) for w in uow.take_ahead()] == [("members", "m1", 4)]


async def test_a_snapshot_put_with_the_paths_it_changed_is_written_at_those_alone_while_every_put_names_them():
    """`put(changed=...)`: the write sets the paths named (their values as put), on the version
    read; the paths of two puts in one batch add up; a put without them, a path inside another,
    a document read as absent, or a rolled back message's put, leave it written whole or as before."""
    stored = {"_id": "m1", "facts": {"attendance": {"a1": {"s": "absent"}}, "name": "张"}, "alerts": [], "_v": 3}
    uow = FakeUnitOfWork({"members": {"m1": stored}}, kept_encoded=frozenset({"members"}))
    doc = await uow.get("members", "m1")
    doc["facts"]["attendance"]["a2"] = {"s": "present"}
    uow.put("members", doc, changed=["facts.attendance.a2"])
    uow.commit_message()
    [w] = uow.writes
    assert (w.read_version, w.sets) == (3, {"facts.attendance.a2": {"s": "present"}})
    doc = await uow.get("members", "m1")
    doc["alerts"] = [{"id": "x"}]
    uow.put("members", doc, changed=["alerts"])
    uow.commit_message()
    assert uow.writes[0].sets == {"facts.attendance.a2": {"s": "present"}, "alerts": [{"id": "x"}]}
    uow.put("members", await uow.get("members", "m1"))  # named nothing: whole
    uow.rollback_message()
    assert set(uow.writes[0].sets) == {"facts.attendance.a2", "alerts"}
    uow.commit()
    assert uow.docs["members"]["m1"] == {**stored, "alerts": [{"id": "x"}], "_v": 4,
                                         "facts": {"attendance": {"a1": {"s": "absent"}, "a2": {"s": "present"}},
                                                   "name": "张"}}

    uow = FakeUnitOfWork({"members": {"m1": stored}})
    doc = await uow.get("members", "m1")
    uow.put("members", doc, changed=["facts.attendance.a1"])
    uow.commit_message()
    uow.put("members", doc, changed=["facts"])  # `facts` holds `facts.attendance.a1`: one $set cannot say both
    uow.commit_message()
    assert uow.writes[0].sets is None
    uow.put("members", {"_id": "m1", "facts": {}}, changed=["facts"])
    uow.rollback_message()
    uow.put("members", {"_id": "m2", "n": 1}, changed=["n"])  # never read
    await uow.prefetch([("members", "m3")])
    uow.put("members", {"_id": "m3", "n": 1}, changed=["n"])  # read as absent
    uow.commit_message()
    assert {w._id: w.sets for w in uow.writes} == {"m1": None, "m2": None, "m3": None}


async def test_paths_put_as_changed_count_from_what_was_written_ahead():
    uow = FakeUnitOfWork({"members": {"m1": {"_id": "m1", "a": 1, "b": 1, "_v": 2}}},
                         kept_encoded=frozenset({"members"}))
    uow.ahead = frozenset({"members"})
    uow.put("members", {**await uow.get("members", "m1"), "a": 2}, changed=["a"])
    uow.commit_message()
    [ahead] = uow.take_ahead()
    assert (ahead.read_version, ahead.sets) == (2, {"a": 2})
    uow.put("members", {**await uow.get("members", "m1"), "b": 2}, changed=["b"])
    uow.commit_message()
    [w] = uow.writes
    assert (w.read_version, w.sets) == (3, {"b": 2})
