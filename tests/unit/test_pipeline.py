"""The pipeline's handling of failures, with a fake store: what is retried, split, dead-lettered.

Pure: the store and the relay are in memory; the real unit of work stages the writes.
"""
import asyncio
import json
import logging
from collections import defaultdict
from datetime import datetime, timezone

import pytest
from pymongo.errors import AutoReconnect, DocumentTooLarge, InvalidOperation

from shared.contracts.envelope import Envelope
from shared.messaging.failures import is_transient
from shared.messaging.pipeline import Handler, NotYet, Pipeline
from shared.messaging.records import Incoming
from shared.messaging.unit_of_work import Conflict
from tests.support.fake_uow import FakeUnitOfWork
from tests.support.messages import envelope

pytestmark = pytest.mark.unit


class FakeStore:
    """Commits a unit into dicts; `fail` decides, per commit, to raise instead."""

    def __init__(self, fail=lambda uow, consumed: None):
        self.docs: dict = defaultdict(dict)
        self.inbox: set[str] = set()
        self.fail = fail
        self.commits = 0
        self.db = None
        self.ahead_asked = self.discarded = 0

    def unit(self) -> FakeUnitOfWork:
        uow = FakeUnitOfWork()
        uow.docs = self.docs  # shared state, as a database would be
        return uow

    async def seen(self, _pipeline, ids):
        return {i for i in ids if i in self.inbox}

    async def write_ahead(self, uow):
        self.ahead_asked += 1  # nothing is written before the commit here

    async def discard(self, uow):
        self.discarded += 1

    async def commit(self, uow, _pipeline, consumed):
        self.commits += 1
        error = self.fail(uow, consumed)
        if error:
            raise error
        uow.commit()
        self.inbox.update(consumed)
        return [r.to_doc() for r in uow.outbox]


class FakeRelay:
    def __init__(self):
        self.sent: list[dict] = []

    async def publish(self, docs):
        self.sent.extend(docs)


def record(env: dict, offset: int) -> Incoming:
    return Incoming("t.events", 0, offset, env["data"]["member_id"].encode(), json.dumps(env).encode())


def event(member_id: str, **data) -> dict:
    return envelope("MemberDied", {"member_id": member_id, "on": "2026-01-02", "branch_id": "b1", **data})


async def remember(msg, ctx):
    ctx.put("seen", {"_id": msg.member_id})


def pipeline(store, relay) -> Pipeline:
    return Pipeline(name="events", service="test", store=store, relay=relay,
                    handlers={"MemberDied": Handler(remember)}, mode="events", source="sunsetred-test",
                    events_topic="test.events", reference_wait_s=0)


async def test_a_record_whose_commit_fails_for_its_own_reason_is_dead_lettered_alone():
    too_big = {"m-2"}
    store = FakeStore(lambda uow, consumed: DocumentTooLarge("document too large")
                      if any(w._id in too_big for w in uow.writes) else None)
    relay = FakeRelay()
    envs = [event(f"m-{i}") for i in range(1, 4)]
    await pipeline(store, relay).process([record(e, i) for i, e in enumerate(envs)])
    assert set(store.docs["seen"]) == {"m-1", "m-3"}
    assert store.inbox == {e["id"] for e in envs}  # the bad one too: it is not consumed again
    [dead] = [r for r in relay.sent if r["t"].endswith(".dlq")]
    assert json.loads(dead["v"])["id"] == envs[1]["id"]
    headers = {h["n"]: h["v"] for h in dead["h"]}
    assert headers["x-dlq-reason"] == "commit_failed" and "too large" in headers["x-dlq-error"]


async def test_contention_runs_the_batch_again_on_fresh_reads():
    conflicts = iter([Conflict("moved"), Conflict("moved again")])
    store = FakeStore(lambda uow, consumed: next(conflicts, None))
    relay = FakeRelay()
    await pipeline(store, relay).process([record(event("m-1"), 0)])
    assert store.commits == 3 and set(store.docs["seen"]) == {"m-1"}


async def test_an_unreachable_database_fails_the_batch_so_it_is_consumed_again():
    store = FakeStore(lambda uow, consumed: AutoReconnect("connection refused"))
    with pytest.raises(AutoReconnect):
        await pipeline(store, FakeRelay()).process([record(event("m-1"), 0), record(event("m-2"), 1)])
    assert store.inbox == set() and "seen" not in store.docs


async def test_a_batch_that_outlives_its_database_client_fails_whole_and_at_once():
    """Finding 38: a service stopping closes its client while a long batch still runs. The batch
    fails at its first read, unsplit and with nothing dead-lettered, to be consumed again."""
    calls = []

    async def handle(msg, ctx):
        calls.append(msg.member_id)
        raise InvalidOperation("Cannot use AsyncMongoClient after close")

    store, relay = FakeStore(), FakeRelay()
    p = pipeline(store, relay)
    p.handlers = {"MemberDied": Handler(handle)}
    with pytest.raises(InvalidOperation):
        await p.process([record(event(f"m-{i}"), i) for i in range(4)])
    assert calls == ["m-0"] and relay.sent == [] and store.inbox == set()
    assert not is_transient(InvalidOperation("cannot set options after executing query"))  # a bug stays the message's


async def _m1_raises(error: Exception) -> tuple[FakeStore, dict[str, str]]:
    """Two events through an events pipeline whose handler raises `error` for m-1: the store after
    the batch, and the headers of the one record sent (m-1's dead letter)."""
    async def handle(msg, ctx):
        if msg.member_id == "m-1":
            raise error
        await remember(msg, ctx)

    store, relay = FakeStore(), FakeRelay()
    p = pipeline(store, relay)
    p.handlers = {"MemberDied": Handler(handle)}
    await p.process([record(event("m-1"), 0), record(event("m-2"), 1)])
    [dead] = relay.sent
    return store, {h["n"]: h["v"] for h in dead["h"]}


async def test_a_handler_that_keeps_failing_is_dead_lettered_and_the_rest_go_on():
    store, headers = await _m1_raises(ValueError("a case nobody foresaw"))
    assert set(store.docs["seen"]) == {"m-2"}
    assert headers["x-dlq-reason"] == "handler_failed"


async def test_an_event_handler_that_says_not_yet_is_dead_lettered_since_only_commands_can_be_held():
    """`NotYet` holds a command (parked, like one waiting for a reference); an events pipeline has
    nowhere to hold a record, and must not retry it for ever: it is dead-lettered, the rest go on."""
    store, headers = await _m1_raises(NotYet("facts on their way"))
    assert set(store.docs["seen"]) == {"m-2"}
    assert headers["x-dlq-reason"] == "handler_failed" and "NotYet" in headers["x-dlq-error"]


async def test_a_repeated_id_changes_nothing():
    store, relay = FakeStore(), FakeRelay()
    e = event("m-1")
    await pipeline(store, relay).process([record(e, 0), record(e, 1)])
    await pipeline(store, relay).process([record(e, 2)])
    assert store.commits == 2 and store.docs["seen"]["m-1"]["_v"] == 1


async def test_deferred_work_runs_once_per_key_at_the_end_of_the_batch():
    runs = []

    async def tally(msg, ctx):
        await remember(msg, ctx)

        async def recount(c):
            runs.append(msg.member_id)
            c.inc("counts", "all", {"n": 1})
        ctx.defer(("count", "all"), recount)

    store, relay = FakeStore(), FakeRelay()
    p = pipeline(store, relay)
    p.handlers = {"MemberDied": Handler(tally)}
    await p.process([record(event(f"m-{i}"), i) for i in range(5)])
    assert runs == ["m-4"]  # once, with the last asking message
    assert store.docs["counts"]["all"]["n"] == 1 and len(store.docs["seen"]) == 5


async def test_deferred_work_that_keeps_failing_dead_letters_its_record_alone():
    async def tally(msg, ctx):
        await remember(msg, ctx)
        if msg.member_id == "m-1":
            async def broken(_c):
                raise ValueError("cannot recount")
            ctx.defer(("broken", msg.member_id), broken)

    store, relay = FakeStore(), FakeRelay()
    p = pipeline(store, relay)
    p.handlers = {"MemberDied": Handler(tally)}
    envs = [event(f"m-{i}") for i in range(3)]
    await p.process([record(e, i) for i, e in enumerate(envs)])
    assert set(store.docs["seen"]) == {"m-0", "m-2"}
    [dead] = relay.sent
    assert json.loads(dead["v"])["id"] == envs[1]["id"]


async def test_deferred_work_is_offered_to_write_ahead_and_a_batch_failing_after_gives_it_up():
    """After each deferred item the store may write ahead of the commit (`MongoStore.write_ahead`);
    a batch that then fails, in its deferred work or at its commit's first stage, discards what
    went ahead (`MongoStore.discard`) before it runs again."""
    async def tally(msg, ctx):
        await remember(msg, ctx)

        async def recount(c):
            if msg.member_id == "m-1":
                raise ValueError("cannot recount")
            c.inc("counts", msg.member_id, {"n": 1})
        ctx.defer(("count", msg.member_id), recount)

    store, relay = FakeStore(), FakeRelay()
    p = pipeline(store, relay)
    p.handlers = {"MemberDied": Handler(tally)}
    await p.process([record(event(f"m-{i}"), i) for i in range(3)])
    assert store.ahead_asked >= 2 and store.discarded >= 1  # the whole batch failed once, at least
    assert set(store.docs["seen"]) == {"m-0", "m-2"}

    stages = []

    async def crash_once(stage):
        stages.append(stage)
        if stages.count("handled") == 1 and stage == "handled":
            raise ConnectionError("stopped before the commit")
    store, relay = FakeStore(), FakeRelay()
    p = pipeline(store, relay)
    p.on_stage = crash_once
    with pytest.raises(ConnectionError):
        await p.process([record(event("m-5"), 0)])
    assert store.discarded == 1 and store.commits == 0
    await p.process([record(event("m-5"), 0)])
    assert store.commits == 1 and "m-5" in store.docs["seen"]


async def test_events_of_no_use_are_left_out_and_bad_ones_still_dead_lettered():
    """An events pipeline neither validates nor keeps in its inbox a well-formed event of a type
    it has no handler for; a record that is not even an envelope is still dead-lettered."""
    store, relay = FakeStore(), FakeRelay()
    unused = envelope("MemberReturned", {"member_id": "m-9", "on": "not a date"})  # invalid, but not ours
    garbage = Incoming("t.events", 0, 2, b"m-3", b"{not json")
    await pipeline(store, relay).process([record(event("m-1"), 0), record(unused, 1), garbage])
    assert set(store.docs["seen"]) == {"m-1"}
    assert unused["id"] not in store.inbox and len(store.inbox) == 2
    [dead] = relay.sent
    assert {h["n"]: h["v"] for h in dead["h"]}["x-dlq-reason"] == "not_envelope"

# ---- an event larger than the broker takes is never staged --------------------------------------

def _echo(size: int):
    """A handler whose event grows with `size` (as MemberProfileUpdated grows with a profile)."""
    from shared.contracts.activities import VisitRecorded

    async def handle(msg, ctx):
        ctx.put("seen", {"_id": msg.member_id})
        ctx.emit(VisitRecorded(visit_id="v-1", member_id=msg.member_id, specialist_id="sp-1", on=msg.on, kind="home",
                               notes="记" * (size // 3)))

    return handle


async def test_a_command_that_would_cause_an_event_larger_than_the_broker_takes_is_refused():
    from shared.messaging.records import MAX_RECORD_BYTES

    store, relay = FakeStore(), FakeRelay()
    p = Pipeline(name="commands", service="test", store=store, relay=relay, mode="commands",
                 handlers={"MemberDied": Handler(_echo(MAX_RECORD_BYTES))}, source="sunsetred-test",
                 events_topic="test.events", reference_wait_s=0)
    cmd = event("m-1")
    await p.process([record(cmd, 0)])
    [answer] = [json.loads(r["v"]) for r in relay.sent]
    assert answer["type"] == "CommandRejected" and answer["data"]["reason"] == "invalid"
    assert "more than the broker takes" in answer["data"]["errors"][0]["message"]
    assert "seen" not in store.docs and cmd["id"] in store.inbox  # nothing of it kept; answered once


async def test_an_event_that_would_cause_an_event_larger_than_the_broker_takes_is_dead_lettered():
    from shared.messaging.records import MAX_RECORD_BYTES

    store, relay = FakeStore(), FakeRelay()
    p = Pipeline(name="events", service="test", store=store, relay=relay, mode="events",
                 handlers={"MemberDied": Handler(_echo(MAX_RECORD_BYTES))}, source="sunsetred-test",
                 events_topic="test.events", reference_wait_s=0)
    await p.process([record(event("m-1"), 0)])
    [letter] = relay.sent
    assert letter["t"] == "t.events.dlq"
    assert {h["n"]: h["v"] for h in letter["h"]}["x-dlq-reason"] == "event_too_large"
    assert "seen" not in store.docs


async def test_an_event_just_below_the_limit_is_emitted():
    from shared.messaging.records import MAX_RECORD_BYTES

    store, relay = FakeStore(), FakeRelay()
    p = Pipeline(name="events", service="test", store=store, relay=relay, mode="events",
                 handlers={"MemberDied": Handler(_echo(MAX_RECORD_BYTES - 2000))}, source="sunsetred-test",
                 events_topic="test.events", reference_wait_s=0)
    await p.process([record(event("m-1"), 0)])
    [emitted] = relay.sent
    assert emitted["t"] == "activities.events" and MAX_RECORD_BYTES - 2000 < len(emitted["v"]) <= MAX_RECORD_BYTES


async def ten_records_under_a_limit_of_100(handle) -> FakeStore:
    """Ten MemberDied through a pipeline whose units hold at most 100 documents; `handle(msg, ctx,
    seen)` gets the number of records committed before its own. Returns the store."""
    store, relay = FakeStore(), FakeRelay()
    p = pipeline(store, relay)
    p.handlers = {"MemberDied": Handler(lambda msg, ctx: handle(msg, ctx, len(store.docs["seen"])))}
    p.max_documents = 100
    envs = [event(f"m-{i}") for i in range(10)]
    await p.process([record(e, i) for i, e in enumerate(envs)])
    assert store.inbox == {e["id"] for e in envs}  # every record handled once
    return store


async def test_a_batch_whose_documents_grow_past_the_limit_is_committed_in_several_transactions_in_order():
    """A handler that brings many documents into the unit of work (a late fact re-addressing a year
    of notices) makes the batch commit early: the records behind go on in the next transaction, in
    their order, and every record is handled once."""
    async def reads_many(msg, ctx, seen):
        for k in range(30):
            await ctx.get("notices", f"{msg.member_id}-{k}")
        ctx.put("seen", {"_id": msg.member_id, "after": seen})

    store = await ten_records_under_a_limit_of_100(reads_many)
    assert store.commits == 3  # 4 records (120 documents > 100), 4, then the last 2
    assert [store.docs["seen"][f"m-{i}"]["after"] for i in range(10)] == [0, 0, 0, 0, 4, 4, 4, 4, 8, 8]


async def test_each_batch_logs_its_pipeline_the_documents_it_held_and_the_memory_after_it(caplog):
    """What tells an operator (and end_to_end.py) which batches raise a service's memory."""
    async def reads_many(msg, ctx, seen):
        for k in range(30):
            await ctx.get("notices", f"{msg.member_id}-{k}")
        ctx.put("seen", {"_id": msg.member_id, "after": seen})

    with caplog.at_level(logging.INFO, logger="shared.messaging.pipeline"):
        await ten_records_under_a_limit_of_100(reads_many)
    done = [r for r in caplog.records if r.msg == "batch done"]
    assert [(r.pipeline, r.records) for r in done] == [("events", 4), ("events", 4), ("events", 2)]
    assert [r.documents for r in done][:2] == [4 * 31, 4 * 31]  # 30 read and 1 written a record
    assert all(r.rss_mb > 0 for r in done)


async def test_a_batch_is_cut_by_what_its_deferred_work_will_read_not_only_by_what_it_holds():
    """Late facts reserve the documents their deferred settling reads at the end of the batch
    (UnitOfWork.reserve): the batch commits early by those too."""
    async def reserves(msg, ctx, seen):
        ctx.uow.reserve(30)
        ctx.defer(("settle", msg.member_id), lambda c: c.uow.prefetch([("notices", f"{msg.member_id}-{k}")
                                                                         for k in range(30)]))
        ctx.put("seen", {"_id": msg.member_id, "after": seen})

    store = await ten_records_under_a_limit_of_100(reserves)
    assert store.commits == 3  # as if the documents were read at once: 4, 4, then 2
    assert [store.docs["seen"][f"m-{i}"]["after"] for i in range(10)] == [0, 0, 0, 0, 4, 4, 4, 4, 8, 8]


async def _ten_records_of_three_members(monkeypatch, member: dict, **bounds) -> FakeStore:
    """Ten records, each naming three member documents like `member`, through a pipeline with these
    read bounds; the store after. Each record notes how many had been handled before its transaction."""
    import shared.messaging.pipeline as pipeline_module
    monkeypatch.setattr(pipeline_module, "FIRST_READ_PART", 3)  # a record's three documents first
    monkeypatch.setattr(pipeline_module, "MIN_READ_PART", 1)
    store, relay = FakeStore(), FakeRelay()
    for i in range(10):
        for k in range(3):
            store.docs["members"][f"m-{i}-{k}"] = {"_id": f"m-{i}-{k}", **member}

    async def reads_its_members(msg, ctx):
        for k in range(3):
            assert await ctx.read("members", f"{msg.member_id}-{k}") is not None
        ctx.put("seen", {"_id": msg.member_id, "after": len(store.docs["seen"])})

    p = pipeline(store, relay)
    p.handlers = {"MemberDied": Handler(reads_its_members,
                                        lambda e: [("members", f"{e.member_id}-{k}") for k in range(3)])}
    for name, value in bounds.items():
        setattr(p, name, value)
    envs = [event(f"m-{i}") for i in range(10)]
    await p.process([record(e, i) for i, e in enumerate(envs)])
    assert store.inbox == {e["id"] for e in envs}
    return store


async def test_a_batch_reads_the_documents_its_records_name_up_to_its_bytes_then_goes_on_in_another_transaction(
        monkeypatch):
    """A district notice reaches reporting as a record per branch naming the branch's members:
    a batch of them named 20,000 members at once. A batch reads what its records name in parts,
    and once `max_read_bytes` are read the records behind go on in the next transaction, in their
    order; every record is handled once."""
    store = await _ten_records_of_three_members(monkeypatch, {"facts": "x" * 1000}, max_read_bytes=10_000)  # ~1 KB
    # 3 KB, then as many documents as the 7 KB left allow (three records' more), then stop: 12 KB
    assert store.commits == 3
    assert [store.docs["seen"][f"m-{i}"]["after"] for i in range(10)] == [0, 0, 0, 0, 4, 4, 4, 4, 8, 8]


async def test_a_batch_reads_the_documents_its_records_name_up_to_a_number_of_them_too(monkeypatch):
    """Small documents fill the bytes late: 16 MB held 57,000 members of 150 bytes at 100,000 members.
    Past `max_read_documents` the records behind go on in the next transaction, in their order."""
    store = await _ten_records_of_three_members(monkeypatch, {}, max_read_bytes=10_000_000, max_read_documents=12)
    # 3 documents, then 9 more (the 12 allowed): four records a transaction, then the two left
    assert store.commits == 3
    assert [store.docs["seen"][f"m-{i}"]["after"] for i in range(10)] == [0, 0, 0, 0, 4, 4, 4, 4, 8, 8]


async def test_a_document_that_brings_more_with_it_counts_as_that_many_towards_what_a_batch_reads(monkeypatch):
    """A member read by reporting brings its refresh: its document written again, its study roll,
    its alerts and their announcements. 18,113 members read within the bounds held 148,455
    documents. Each member counted twice here: two records a transaction, not four."""
    store = await _ten_records_of_three_members(monkeypatch, {}, max_read_bytes=10_000_000, max_read_documents=12,
                                                read_weights={"members": 2})
    # 3 members (6 counted), then 3 more (the 6 left, counted twice): 12, the bound
    assert store.commits == 5
    assert [store.docs["seen"][f"m-{i}"]["after"] for i in range(10)] == [0, 0, 2, 2, 4, 4, 6, 6, 8, 8]


async def test_a_batch_sizes_its_next_read_for_the_largest_documents_read_so_far(monkeypatch):
    """The first record names nine small documents and a member of 1 KB, the nine after a member
    each. Sized by the mean of all (some 140 bytes), the next part was all nine members: 10.7 KB
    read in one transaction against a bound of 4 KB. Sized for the members, it stops past 4 KB."""
    import shared.messaging.pipeline as pipeline_module
    monkeypatch.setattr(pipeline_module, "FIRST_READ_PART", 10)  # the first record's ten documents
    monkeypatch.setattr(pipeline_module, "MIN_READ_PART", 1)
    store, relay = FakeStore(), FakeRelay()
    for i in range(10):
        store.docs["members"][f"m-{i}"] = {"_id": f"m-{i}", "facts": "x" * 1000}
    for k in range(9):
        store.docs["orgs"][f"o-{k}"] = {"_id": f"o-{k}"}

    def names(e) -> list:
        small = [("orgs", f"o-{k}") for k in range(9)] if e.member_id == "m-0" else []
        return small + [("members", e.member_id)]

    async def reads_them(msg, ctx):
        assert await ctx.read("members", msg.member_id) is not None
        ctx.put("seen", {"_id": msg.member_id, "after": len(store.docs["seen"])})

    p = pipeline(store, relay)
    p.handlers = {"MemberDied": Handler(reads_them, names)}
    p.max_read_bytes = 4000
    await p.process([record(event(f"m-{i}"), i) for i in range(10)])
    firsts = [i for i in range(10) if store.docs["seen"][f"m-{i}"]["after"] == 0]
    assert firsts == [0, 1, 2, 3]  # 1.4 KB, then two members (3.5 KB), then one more: past 4 KB
    assert store.commits == 2  # the six left: a first part of ten documents is read whole


async def test_one_large_document_does_not_shrink_the_parts_of_the_small_ones_after_it():
    """Each record names a small document; the first also an organisation of 60 KB. Each
    collection's documents are expected at their own mean size: the 1,001 small ones left go in
    one part (sized by the largest mean, 16 MB / 60 KB, they took four parts more)."""
    store, relay = FakeStore(), FakeRelay()
    store.docs["orgs"]["o-1"] = {"_id": "o-1", "index": "x" * 60_000}
    for i in range(2000):
        store.docs["members"][f"m-{i}"] = {"_id": f"m-{i}"}
    uows = units_of(store)
    p = pipeline(store, relay)
    p.handlers = {"MemberDied": Handler(_reads_member, lambda e: [("members", e.member_id)]
                                        + ([("orgs", "o-1")] if e.member_id == "m-0" else []))}
    p.max_read_bytes = 16 * 2**20
    await p.process([record(event(f"m-{i}"), i) for i in range(2000)])
    assert store.commits == 1
    assert uows[0].loads == 3  # the first part (999 members and the org), then the 1,001 members left


def units_of(store: FakeStore) -> list:
    """The units of work the store hands out from now on, in order (to count what each read)."""
    uows = []
    unit = store.unit
    store.unit = lambda: uows.append(unit()) or uows[-1]
    return uows


async def _reads_member(msg, ctx):
    await ctx.read("members", msg.member_id)


def member_reader(store: FakeStore, relay: FakeRelay) -> Pipeline:
    """A pipeline whose one handler reads the member its record names, named up front."""
    p = pipeline(store, relay)
    p.handlers = {"MemberDied": Handler(_reads_member, lambda e: [("members", e.member_id)])}
    return p


async def test_without_a_limit_on_bytes_a_batch_reads_what_its_records_name_at_once():
    store, relay = FakeStore(), FakeRelay()
    for i in range(10):
        store.docs["members"][f"m-{i}"] = {"_id": f"m-{i}", "facts": "x" * 1000}
    uows = units_of(store)
    p = member_reader(store, relay)
    await p.process([record(event(f"m-{i}"), i) for i in range(10)])
    assert store.commits == 1 and [u.loads for u in uows] == [1]  # one query for the batch


async def test_after_duplicates_only_the_documents_of_records_the_inbox_has_not_seen_are_read():
    """A process's first batch, and every batch after one that had duplicates, asks the inbox before
    reading: a partition consumed again after a crash reads none of its duplicates' documents."""
    store, relay = FakeStore(), FakeRelay()
    for i in range(30):
        store.docs["members"][f"m-{i}"] = {"_id": f"m-{i}"}
    uows = units_of(store)
    p = member_reader(store, relay)
    events = [event(f"m-{i}") for i in range(30)]
    store.inbox.update(e["id"] for e in events[:6])  # committed before a crash, offsets not
    await p.process([record(e, i) for i, e in enumerate(events[:10])])  # the first batch
    await p.process([record(e, i) for i, e in enumerate(events[10:15], 10)])  # after duplicates
    # after a batch without: asked side by side, a rare duplicate's document read with the rest
    await p.process([record(e, i) for i, e in enumerate(events[15:20] + events[8:9], 15)])
    assert [u.documents_read for u in uows] == [4, 5, 6]
    assert store.inbox == {e["id"] for e in events[:20]}


async def test_the_documents_that_the_documents_read_name_are_read_for_the_whole_batch_at_once():
    """A handler reads a document that only another document names (a request names its member):
    `Handler.then` names them, and the batch reads them in one query, not one a record."""
    store, relay = FakeStore(), FakeRelay()
    for i in range(12):
        store.docs["requests"][f"r-{i}"] = {"_id": f"r-{i}", "member": f"x-{i}"}
        store.docs["members"][f"x-{i}"] = {"_id": f"x-{i}"}
    uows = units_of(store)

    async def reads(msg, ctx):
        request = await ctx.read("requests", f"r-{msg.member_id[2:]}")
        ctx.put("seen", {"_id": msg.member_id, "member": (await ctx.read("members", request["member"]))["_id"]})

    def then(msg, _envelope, read):
        request = read("requests", f"r-{msg.member_id[2:]}")
        return [("members", request["member"])] if request else []
    p = pipeline(store, relay)
    p.handlers = {"MemberDied": Handler(reads, lambda e: [("requests", f"r-{e.member_id[2:]}")], then)}
    await p.process([record(event(f"m-{i}"), i) for i in range(10)])
    assert [u.loads for u in uows] == [2]  # the requests, then their members
    assert store.docs["seen"]["m-3"]["member"] == "x-3"
    p.handlers["MemberDied"].then = lambda msg, _envelope, read: 1 / 0  # a guess that fails costs only the reads
    await p.process([record(event(f"m-{i}"), i) for i in range(10, 12)])
    assert [u.loads for u in uows][1:] == [1 + 2] and set(store.docs["seen"]) >= {"m-10", "m-11"}


def test_a_reservation_counts_once_its_message_is_kept():
    uow = FakeUnitOfWork()
    uow.reserve(5)
    uow.rollback_message()
    uow.reserve(7)
    uow.commit_message()
    assert uow.size() == 7


async def test_the_timer_sweep_of_held_commands_stands_aside_while_this_process_runs_batches():
    """Every batch retries the held commands at its end; a sweep beside it retried the same ones and
    one of the two lost the race (a batch of 2,000 records run again)."""
    p = Pipeline(name="commands", service="test", store=FakeStore(), relay=FakeRelay(), handlers={},
                 mode="commands", source="sunsetred-test", events_topic="test.events", reference_wait_s=600)
    swept: list[str] = []

    async def retry_parked(_uow, _just_parked, fresh=False):
        swept.append("swept")
        return False

    release = asyncio.Event()

    async def batch(_records):
        await release.wait()

    p._retry_parked, p._in_batches = retry_parked, batch
    running = asyncio.create_task(p.process([]))
    await asyncio.sleep(0)
    await p.sweep_parked()
    assert swept == []  # a batch is under way: it retries them at its end
    release.set()
    await running
    await p.sweep_parked()
    assert swept == ["swept"]  # none under way: the sweep is what retries them now


async def test_a_background_unit_waits_for_the_transaction_under_way_and_the_batch_for_the_unit():
    """A unit and a batch of one pipeline, side by side in a process, wrote the same documents and
    one lost (reporting's batches ran again 17 times in 38 minutes of the 100,000-member demo): they
    take turns."""
    store, relay = FakeStore(), FakeRelay()
    p = pipeline(store, relay)
    order: list[str] = []
    in_commit = asyncio.Event()
    release = asyncio.Event()

    async def on_stage(name):
        if name == "handled" and not order:  # the batch's transaction, before it commits
            order.append("batch handled")
            in_commit.set()
            await release.wait()

    async def unit_work(ctx):
        order.append("unit")
        ctx.put("seen", {"_id": "from-unit"})

    p.on_stage = on_stage
    batch = asyncio.create_task(p.process([record(event("m-1"), 0)]))
    await in_commit.wait()
    cause = Envelope(id="tick-1", type="Tick", occurred_at=datetime.now(timezone.utc), district="x-district",
                     source="sunsetred-test", data={})
    unit = asyncio.create_task(p.run_unit(cause, unit_work))
    for _ in range(5):
        await asyncio.sleep(0)
    assert order == ["batch handled"]  # the unit waits while the batch's transaction is open
    release.set()
    await asyncio.gather(batch, unit)
    assert order == ["batch handled", "unit"] and set(store.docs["seen"]) == {"m-1", "from-unit"}


async def test_a_commit_that_writes_what_a_held_command_wants_wakes_the_timer_sweep():
    """Held commands wait for their next pass; a pass comes at the end of a batch, or from the
    timer. A unit (the delivery worker's) that writes what one wants wakes the timer at once."""
    p = Pipeline(name="commands", service="test", store=FakeStore(), relay=FakeRelay(), handlers={},
                 mode="commands", source="sunsetred-test", events_topic="test.events", reference_wait_s=600)
    p._held_wants = {("deliveries", "n1:m1")}
    cause = Envelope.model_construct(id="unit-1", type="Delivery.claim", correlation_id=None)

    async def other(ctx):
        ctx.put("deliveries", {"_id": "n2:m1"})

    async def wanted(ctx):
        ctx.put("deliveries", {"_id": "n1:m1"})
    await p.run_unit(cause, other)
    assert not p.wake.is_set()
    await p.run_unit(cause, wanted)
    assert p.wake.is_set() and ("deliveries", "n1:m1") in p._written


async def test_what_a_batch_names_leaves_its_handlers_room_so_it_is_not_cut_after_its_first_record():
    """The documents named for a batch (`Handler.then`) count towards what its handlers may bring
    (`max_documents`): named up to all of it, every batch was cut after its first record. They
    take at most half, and the handlers have the rest."""
    store, relay = FakeStore(), FakeRelay()
    for i in range(10):
        for k in range(20):
            store.docs["members"][f"x-{i}-{k}"] = {"_id": f"x-{i}-{k}"}

    async def reads(msg, ctx):
        for k in range(20):
            await ctx.read("members", f"x-{msg.member_id[2:]}-{k}")
        ctx.put("seen", {"_id": msg.member_id})

    p = pipeline(store, relay)
    p.handlers = {"MemberDied": Handler(reads, then=lambda msg, _env, _read: [
        ("members", f"x-{msg.member_id[2:]}-{k}") for k in range(20)])}
    p.max_documents = 100
    await p.process([record(event(f"m-{i}"), i) for i in range(10)])
    assert len(store.docs["seen"]) == 10  # every record handled
    assert store.commits == 2  # 50 named (two records' worth), then 20 a record read by the handlers


async def test_the_documents_named_for_a_batch_are_bounded_the_first_records_first():
    """At 100,000 members a batch of member facts names thousands of notice indexes: what is read
    for it at once stops at the batch's bound on documents; the other handlers read theirs when
    they ask, and the batch is cut by what they bring, as before."""
    from shared.messaging.pipeline import read_named

    uow = FakeUnitOfWork({"members": {f"x-{i}": {"_id": f"x-{i}"} for i in range(10)}})
    handler = Handler(_reads_member, then=lambda msg, _env, _read: [("members", f"x-{msg}"), ("members", f"x-{msg + 5}")])
    await read_named(uow, [(handler, i, None) for i in range(5)], limit=5)
    assert sorted(k[1] for k in uow._cache) == ["x-0", "x-1", "x-5", "x-6"]

