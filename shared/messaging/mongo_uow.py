"""The MongoDB adapter of the unit of work: a batch's state, inbox and outbox in ONE transaction.

Every snapshot write is conditional on the version the batch read (`_v`), so two instances, or
two pipelines of one instance, that change the same document cannot overwrite each other: the
later commit finds the version moved, the transaction aborts, and its batch runs again on fresh
reads (`Conflict`). A repeated message id is refused by the inbox's unique index of ids in the
same transaction, so a batch consumed twice (a rebalance, a crash before the offset commit) changes
nothing the second time.
"""
import asyncio
import random
import struct
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import bson
from bson import ObjectId
from bson.raw_bson import RawBSONDocument
from pymongo import DeleteOne, InsertOne, ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, PyMongoError

from shared.messaging.failures import WRITE_CONFLICT, is_contention
from shared.messaging.records import Outgoing
from shared.messaging.tally import Tally
from shared.messaging.unit_of_work import VERSION, Conflict, Encoded, Inc, StagedUnitOfWork, Write, apply_inc, clone

OUTBOX = "_outbox"
OUTBOX_LEGACY_INDEX = "sent_at_1"
LEASES = "_leases"
TALLIES = "_tallies"  # which tallies have been counted from the start (tally.py)
DUPLICATE_KEY = 11000
# A commit's writes to a collection go in bulk writes of at most this many operations, and bytes of
# encoded snapshots (`_chunks`), all in the one transaction.
WRITE_CHUNK_OPS = 500
WRITE_CHUNK_BYTES = 2 * 2**20
# Snapshots are written ahead of the commit once this many, or bytes of them, are ready (`write_ahead`).
AHEAD_OPS, AHEAD_BYTES = WRITE_CHUNK_OPS, WRITE_CHUNK_BYTES


def inbox_of(pipeline: str) -> str:
    return f"_inbox_{pipeline}"


# The inbox keeps a document a commit, the ids it consumed in an array (`ids`, a unique multikey
# index: an id committed before is refused, as `_id` refused it when each id was a document of its
# own, each an entry in two indexes and a record: 45,000 of them in the 300-member year). A
# commit's ids go in documents of at most this many.
INBOX_IDS_PER_DOC = 5000
INBOX_IDS_INDEX = "ids_1"
# After a commit whose documents put as new (`UnitOfWork.put(new=True)`) were refused as existing,
# the units of this many seconds read them first, as any other: the batch run again then writes
# them as it would have without the assumption, so a wrong one cannot refuse it for ever.
DISTRUST_NEW_S = 60.0


class _Transaction:
    """A batch's transaction: opened by its commit, or before it to write snapshots ahead of it
    (`MongoStore.write_ahead`: one bulk write of them at a time, in a task of its own)."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.task: asyncio.Task | None = None

    @classmethod
    async def begin(cls, client: Any) -> "_Transaction":
        session = client.start_session()
        await session.start_transaction()
        return cls(session)

    @property
    def busy(self) -> bool:
        return self.task is not None and not self.task.done()

    async def written(self) -> None:
        """Once what went ahead is written; raises what writing it raised."""
        task, self.task = self.task, None
        if task is not None:
            await task

    async def close(self) -> None:
        """Give the transaction up (the batch failed): what it wrote is undone."""
        try:
            await self.written()
        except Exception:
            pass  # the batch failed already, for this reason or another
        finally:
            try:
                if self.session.in_transaction:
                    await self.session.abort_transaction()
            finally:
                await self.session.end_session()


class MongoUnitOfWork(StagedUnitOfWork):
    def __init__(self, db: Any, kept_encoded: frozenset[str] = frozenset(), assume_new: bool = True,
                 ahead: frozenset[str] = frozenset()):
        super().__init__(kept_encoded, assume_new)
        self.db = db
        self._raw = db.codec_options.with_options(document_class=RawBSONDocument)
        self.ahead = ahead
        self.transaction: _Transaction | None = None  # opened by a write ahead (MongoStore.write_ahead)

    async def _load(self, coll: str, ids: list[str]) -> dict[str, dict | Encoded]:
        # Read as raw BSON to count its bytes (`bytes_read`), then decoded as the database's codec
        # would: no slower than the driver's own decoding (200 reporting members, 2.9 MB: 38–43 ms
        # against 57–73 ms).
        found: dict[str, dict | Encoded] = {}
        keep = coll in self.kept_encoded
        async for raw in self.db[coll].with_options(codec_options=self._raw).find({"_id": {"$in": ids}}):
            self.bytes_by_collection[coll] += len(raw.raw)
            if keep:  # the top level only is decoded (its fields below stay raw), for the id and version
                found[raw["_id"]] = Encoded(raw.raw, raw.get(VERSION, 0))
            else:
                doc = bson.decode(raw.raw, codec_options=self.db.codec_options)
                found[doc["_id"]] = doc
        return found

    def _decode(self, data: bytes) -> dict:
        return bson.decode(data, codec_options=self.db.codec_options)

    def _encode(self, doc: dict) -> bytes:
        return bson.encode(doc, codec_options=self.db.codec_options)

    def seed(self, coll: str, docs: list[dict]) -> None:
        """Documents the caller has just read (e.g. by a query), as if prefetched."""
        for d in docs:
            self._cache.setdefault((coll, d["_id"]), d)


def _op(w: Write) -> tuple[Any, str]:
    """The write and what it counts as: 'insert', 'match' (must match one document), 'delete';
    'guarded': no condition, nothing to count (`Write.guarded`)."""
    if w.guarded:
        if w.doc is None:
            return DeleteOne({"_id": w._id}), "guarded"
        return ReplaceOne({"_id": w._id}, _versioned(w.doc, w.version_written), upsert=True), "guarded"
    if w.condition is not None:  # unchanged since read; a fence also moves the version
        change = {"$inc": {VERSION: 1}} if w.condition == "fence" else {"$set": {VERSION: w.read_version}}
        return UpdateOne({"_id": w._id, VERSION: w.read_version}, change), "match"
    if w.inc is not None:
        return UpdateOne({"_id": w._id}, {"$inc": {**w.inc.counts, VERSION: 1},
                                           **({"$setOnInsert": w.inc.on_insert} if w.inc.on_insert else {})},
                         upsert=True), "inc"
    if w.doc is None:
        return DeleteOne({"_id": w._id, VERSION: w.read_version}), "delete"
    if w.read_version is None:
        return InsertOne(_versioned(w.doc, w.version_written)), "insert"
    if w.sets is not None:  # the snapshot differs from what was read at these paths alone
        return UpdateOne({"_id": w._id, VERSION: w.read_version},
                         {"$set": {**w.sets, VERSION: w.version_written}}), "match"
    return ReplaceOne({"_id": w._id, VERSION: w.read_version}, _versioned(w.doc, w.version_written)), "match"


_KINDS = {InsertOne: 0, UpdateOne: 1, ReplaceOne: 1, DeleteOne: 2}


def _kind_order(op: Any) -> int:
    return _KINDS[type(op)]


class _Snapshot(RawBSONDocument):
    """Stored bytes the driver sends as they are. Its check of a replacement asks whether the
    document is empty (`validate_ok_for_replace`), which a RawBSONDocument answers by decoding its
    top level, and keeps that decoded copy, for every member a batch writes: 5.2 % of reporting's
    samples in 40 s of py-spy during a 100,000-member year's January. A snapshot is never empty."""

    def __bool__(self) -> bool:
        return True


def _versioned(doc: dict | Encoded, version: int) -> dict | RawBSONDocument:
    """The snapshot with its new `_v`. An encoded one gets it appended to its bytes (it has none:
    `StagedUnitOfWork._kept`), and the driver sends those bytes as they are."""
    if not isinstance(doc, Encoded):
        return {**doc, VERSION: version}
    body = doc.data[4:-1] + bson.encode({VERSION: version})[4:-1]
    return _Snapshot(struct.pack("<i", len(body) + 5) + body + b"\x00")


class MongoStore:
    """One service database: units of work, the inbox of each pipeline, the outbox."""

    def __init__(self, client: Any, db: Any, inbox_days: float = 30, tallies: list[Tally] | None = None,
                 kept_encoded: frozenset[str] = frozenset(), write_ahead: frozenset[str] = frozenset()):
        self.client, self.db = client, db
        self.kept_encoded = kept_encoded  # see StagedUnitOfWork
        self.tallies = {t.watched: t for t in tallies or []}
        # Collections whose snapshots a batch writes ahead of its commit (`write_ahead`). Not a
        # tallied one: its tally's `$inc`s are worked out at the commit from the writes.
        if write_ahead & set(self.tallies):
            raise ValueError(f"tallied collections cannot be written ahead: {sorted(write_ahead & set(self.tallies))}")
        self.write_ahead_colls = write_ahead
        self.inbox_ttl = int(inbox_days * 86400)
        # Pipelines whose inbox still has ids as documents of their own (versions before 5 December
        # 2026), until its TTL prunes them: asked by `_id` too.
        self._inbox_by_id: set[str] = set()
        self._distrust_new_until = 0.0  # see DISTRUST_NEW_S

    async def setup(self, pipelines: list[str]) -> None:
        for name in pipelines:
            inbox = self.db[inbox_of(name)]
            # The inbox is pruned by MongoDB itself: an id older than Kafka's retention cannot recur.
            await inbox.create_index("at", expireAfterSeconds=self.inbox_ttl)
            # Partial: an inbox of the earlier shape (an id a document, no `ids`) would otherwise
            # index every one of them as null, and a unique index on it could not be built.
            info = (await inbox.index_information()).get(INBOX_IDS_INDEX)
            if info is not None and "partialFilterExpression" not in info:
                await inbox.drop_index(INBOX_IDS_INDEX)  # made so by a build of 5 December, 16:10–18:15
            await inbox.create_index("ids", name=INBOX_IDS_INDEX, unique=True,
                                     partialFilterExpression={"ids": {"$exists": True}})
            # An id that is a document's `_id` is a string, which sorts before every ObjectId.
            first = await inbox.find_one({}, {"_id": 1}, sort=[("_id", 1)])
            if first is not None and isinstance(first["_id"], str):
                self._inbox_by_id.add(name)
        # The outbox holds the records not sent yet, read oldest first by `_id` (an ObjectId, in
        # the order they were written); they are deleted once sent (`mark_sent`). Versions before
        # 4 December 2026 marked them `sent_at` and had a TTL index on it prune them a day later:
        # those records go here, and the index, which every record's insert and delete wrote.
        await self.db[OUTBOX].delete_many({"sent_at": {"$ne": None}})
        if OUTBOX_LEGACY_INDEX in await self.db[OUTBOX].index_information():
            await self.db[OUTBOX].drop_index(OUTBOX_LEGACY_INDEX)
        for tally in self.tallies.values():
            await self._count_existing(tally)

    async def _count_existing(self, tally: Tally) -> None:
        """A tally added to a collection that already has documents starts from a full count, once:
        the first instance to get here counts (its marker in `_tallies` says so), in one
        transaction with the marker, so every later write adds to a complete count. Instances
        started together race for the marker: the loser's transaction aborts (a write conflict,
        or the marker already there) and it looks again, finding the winner's count."""
        while True:
            try:
                return await self._count_existing_once(tally)
            except PyMongoError as exc:
                if not is_contention(exc):
                    raise

    async def _count_existing_once(self, tally: Tally) -> None:
        if await self.db[TALLIES].find_one({"_id": tally.into}) is not None:
            return
        totals: dict[str, tuple[dict[str, int], dict]] = {}
        async for doc in self.db[tally.watched].find():
            for tally_id, (counts, start) in tally.difference(None, doc).items():
                have, _ = totals.setdefault(tally_id, ({}, start))
                for k, n in counts.items():
                    have[k] = have.get(k, 0) + n
        async with self.client.start_session() as session:
            async with await session.start_transaction():
                try:
                    await self.db[TALLIES].insert_one({"_id": tally.into, "at": datetime.now(timezone.utc)},
                                                      session=session)
                except DuplicateKeyError:
                    return  # another instance counted first
                await self.db[tally.into].delete_many({}, session=session)
                if totals:
                    await self.db[tally.into].insert_many(
                        [{**start, "_id": i, **_nested(counts)} for i, (counts, start) in totals.items()],
                        session=session)

    def unit(self) -> MongoUnitOfWork:
        return MongoUnitOfWork(self.db, self.kept_encoded, assume_new=time.monotonic() >= self._distrust_new_until,
                               ahead=self.write_ahead_colls)

    async def write_ahead(self, uow: MongoUnitOfWork) -> None:
        """Once a chunk's worth of snapshots of the `write_ahead` collections is ready (their
        messages and deferred work done with them), write them into the batch's transaction,
        opened now, in the background, while the batch's deferred work goes on: the database
        writes while Python works out the rest (reporting's members, a year of facts each: a
        batch's deferred work and its commit each took some 3 s at 100,000 members, one after
        the other). Nothing is visible before the commit; a failure of the batch aborts it all
        (`discard`). One bulk write at a time: the next chunk waits for the one under way, and
        meanwhile the caller gives the event loop a turn, so that it goes on."""
        ahead = uow.transaction
        if ahead is not None and ahead.busy:
            await asyncio.sleep(0)
            return
        ready, size = uow.ready_ahead()
        if ready < AHEAD_OPS and size < AHEAD_BYTES:
            return
        if ahead is None:
            ahead = uow.transaction = await _Transaction.begin(self.client)
        await ahead.written()  # raises what the one before raised: the batch fails now
        writes = uow.take_ahead()
        if writes:
            ahead.task = asyncio.create_task(self._write_all(uow, _by_coll(writes), ahead.session))

    async def discard(self, uow: MongoUnitOfWork) -> None:
        """The batch failed: the transaction its writes ahead opened, if any, is aborted."""
        ahead, uow.transaction = uow.transaction, None
        if ahead is not None:
            await ahead.close()

    async def seen(self, pipeline: str, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        inbox, wanted = self.db[inbox_of(pipeline)], set(ids)
        seen = {i async for d in inbox.find({"ids": {"$in": ids}}, {"ids": 1}) for i in d["ids"] if i in wanted}
        if pipeline in self._inbox_by_id:
            seen |= {d["_id"] async for d in inbox.find({"_id": {"$in": ids}}, {"_id": 1})}
        return seen

    async def commit(self, uow: MongoUnitOfWork, pipeline: str, consumed: list[str]) -> list[dict]:
        """Write everything the unit staged, the consumed ids and the owed records atomically.
        Returns the outbox documents written (to be published by the relay)."""
        if uow.empty and not consumed and uow.transaction is None:
            # Nothing to write (every record was of a type this pipeline has no use for): the
            # offsets are still committed only once the database has answered, so that while it is
            # down a consumer commits nothing at all (docs/reliability.md, finding 32).
            await self.db.command("ping")
            return []
        writes = uow.writes
        blind = [(w.coll, w._id) for w in writes if w.blind and w.inc is None and w.condition is None]
        if blind:  # written without being read: read their versions now, so the write is conditional
            await uow.prefetch(blind)
            writes = uow.writes
        if self.tallies:
            writes = writes + _tally_writes(uow, writes, self.tallies)
        now = datetime.now(timezone.utc)
        outbox = _outbox_docs(uow.outbox, now)
        transaction, uow.transaction = uow.transaction or await _Transaction.begin(self.client), None
        session = transaction.session
        try:
            await transaction.written()  # what went ahead, if anything did
            try:
                if consumed:
                    await self.db[inbox_of(pipeline)].insert_many(
                        [{"_id": ObjectId(), "at": now, "ids": consumed[start:start + INBOX_IDS_PER_DOC]}
                         for start in range(0, len(consumed), INBOX_IDS_PER_DOC)], ordered=True, session=session)
                await self._write_all(uow, _by_coll(writes), session)
                for start in range(0, len(outbox), WRITE_CHUNK_OPS):
                    await self.db[OUTBOX].insert_many(outbox[start:start + WRITE_CHUNK_OPS], ordered=True,
                                                      session=session)
            except (BulkWriteError, DuplicateKeyError) as exc:
                raise self._refused(uow, exc)
            await session.commit_transaction()
        except BaseException:
            await transaction.close()
            raise
        await session.end_session()
        return _records(outbox)

    async def _write_all(self, uow: MongoUnitOfWork, by_coll: dict[str, list[Write]], session: Any) -> None:
        """The writes, by collection, in bulk writes of a chunk each (`_chunks`)."""
        try:
            for coll, coll_writes in by_coll.items():
                for chunk in _chunks(coll_writes):
                    # Guarded writes apart: what they match or delete is not counted.
                    for part in ([w for w in chunk if not w.guarded], [w for w in chunk if w.guarded]):
                        if part:
                            await self._write(coll, part, session)
        except (BulkWriteError, DuplicateKeyError) as exc:
            raise self._refused(uow, exc)

    def _refused(self, uow: MongoUnitOfWork, exc: BulkWriteError | DuplicateKeyError) -> Exception:
        """A write refused as a duplicate is another writer's first (a `Conflict`); any other, the batch's own."""
        if not _duplicate_only(exc):
            return exc
        if uow.assumed_new:
            self._distrust_new_until = time.monotonic() + DISTRUST_NEW_S
        conflict = Conflict(f"already written by another writer: {exc}")
        conflict.__cause__ = exc
        return conflict

    async def _write(self, coll: str, writes: list[Write], session: Any) -> None:
        """One bulk write of a chunk of the unit's writes to `coll`, each conditional on its version
        (or a part of guarded writes only, none of them: `commit`)."""
        ops, want = [], {"match": 0, "delete": 0, "inc": 0, "insert": 0, "guarded": 0}
        for w in writes:
            op, kind = _op(w)
            ops.append(op)
            want[kind] += 1
        # An ordered bulk write goes to the server as one command for each run of writes of one kind
        # (inserts, updates, deletes): as the messages interleaved them, activities' 37 commits of the
        # end-to-end year took 184 insert and 183 update commands on `service_requests` alone. The
        # unit writes a document once, so the order among its documents is free.
        ops.sort(key=_kind_order)
        try:
            result = await self.db[coll].bulk_write(ops, ordered=True, session=session)
        except OperationFailure as exc:
            if getattr(exc, "code", None) != WRITE_CONFLICT:
                raise
            # Another transaction writes one of these documents now: say where, for the operator
            # (the driver's message names no collection).
            raise Conflict(f"{coll}: written by another transaction at the same time") from exc
        if want["guarded"]:
            return  # a part of guarded writes only (`commit`): nothing to check
        if (result.matched_count + result.upserted_count != want["match"] + want["inc"]
                or result.deleted_count != want["delete"]):
            raise Conflict(f"{coll}: a document changed since this batch read it")

    async def unsent(self, older_than_s: float, limit: int = 1000) -> list[dict]:
        """The records of the oldest outbox documents, in order, each with its document's `_id`
        (what `mark_sent` takes): whole documents, until they hold `limit` records (a document
        holds up to 500: after an outage, a sweep's round must not read the whole backlog)."""
        before = datetime.now(timezone.utc) - timedelta(seconds=older_than_s)
        # (`sent_at`: an instance of an earlier version may still mark records sent.)
        docs, records = [], 0
        async for d in self.db[OUTBOX].find({"sent_at": None, "at": {"$lte": before}}).sort("_id", 1).batch_size(20):
            docs.append(d)
            records += len(d.get("records", [d]))
            if records >= limit:
                break
        return _records(docs)

    async def mark_sent(self, ids: list) -> None:
        """Records sent are deleted, not marked and pruned later: their commit's document at once (`ids`
        are documents' ids; the records of one share it). Kafka keeps what was sent; a record
        published twice carries the same id, so consumers drop the second."""
        if ids:
            await self.db[OUTBOX].delete_many({"_id": {"$in": list(dict.fromkeys(ids))}})

    async def backlog(self) -> int:
        """Records not sent yet (a document of an earlier version holds one)."""
        rows = await (await self.db[OUTBOX].aggregate([
            {"$match": {"sent_at": None}},
            {"$group": {"_id": None, "n": {"$sum": {"$cond": [{"$isArray": "$records"}, {"$size": "$records"}, 1]}}}},
        ])).to_list(None)
        return rows[0]["n"] if rows else 0


def _by_coll(writes: list[Write]) -> dict[str, list[Write]]:
    by_coll: dict[str, list[Write]] = {}
    for w in writes:
        if w.doc is None and w.inc is None and w.read_version is None:
            continue  # deleting what was never there
        by_coll.setdefault(w.coll, []).append(w)
    return by_coll


def _chunks(writes: list[Write]) -> Iterator[list[Write]]:
    """The writes in chunks of at most WRITE_CHUNK_OPS, and WRITE_CHUNK_BYTES of snapshots kept
    encoded: the driver encodes a bulk write into messages of up to 48 MB, and the snapshots with
    their new versions are copies; sent all at once, a commit of 20,000 reporting members (57 MB)
    allocated 193 MB beyond its unit of work, in chunks 6 MB (benchmarks/commit_memory.py)."""
    return _bounded(writes, lambda w: len(w.doc.data) if isinstance(w.doc, Encoded) else 0)


def _bounded(items: list, size_of: Callable[[Any], int]) -> Iterator[list]:
    """The items in order, in parts of at most WRITE_CHUNK_OPS and (but for a larger item alone)
    WRITE_CHUNK_BYTES by `size_of`."""
    chunk: list = []
    size = 0
    for x in items:
        n = size_of(x)
        if chunk and (len(chunk) >= WRITE_CHUNK_OPS or size + n > WRITE_CHUNK_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(x)
        size += n
    if chunk:
        yield chunk


def _tally_writes(uow: MongoUnitOfWork, writes: list[Write], tallies: dict[str, Tally]) -> list[Write]:
    """The `$inc`s that keep the tallies in step with this unit's writes (see tally.py)."""
    out: dict[tuple[str, str], Inc] = {}
    shard = {coll: random.randrange(t.shards) for coll, t in tallies.items()}  # one per unit (tally.py)
    for w in writes:
        tally = tallies.get(w.coll)
        if tally is None or w.condition is not None:
            continue
        before = uow.as_read(w.coll, w._id)
        after = uow.decoded(w.doc) if w.inc is None else apply_inc(clone(before) or {"_id": w._id, **w.inc.on_insert},
                                                                     w.inc.counts)
        for tally_id, (counts, start) in tally.difference(before, after).items():
            out.setdefault((tally.into, tally.shard_id(tally_id, shard[w.coll])), Inc()).add(counts, start)
    return [Write(coll, _id, inc=inc) for (coll, _id), inc in out.items()]


def _nested(counts: dict[str, int]) -> dict:
    return apply_inc({}, counts)


def _duplicate_only(exc: Exception) -> bool:
    if isinstance(exc, DuplicateKeyError):
        return True
    errors = exc.details.get("writeErrors", []) if isinstance(exc, BulkWriteError) else []
    return bool(errors) and all(e.get("code") == DUPLICATE_KEY for e in errors)


def _outbox_docs(records: list[Outgoing], now: datetime) -> list[dict]:
    """A commit's records in outbox documents (`_bounded`): a document each was a record and an
    index entry written, then deleted, for every event (26,000 in the 300-member year)."""
    return [{"_id": ObjectId(), "at": now, "records": [r.to_doc() for r in part]}
            for part in _bounded(records, lambda r: len(r.value))]


def _records(docs: list[dict]) -> list[dict]:
    """The records of outbox documents, in order, each with its document's `_id` and `at` (a
    document of an earlier version is one record)."""
    return [{"_id": d["_id"], "at": d["at"], **r} for d in docs for r in d.get("records", [d])]


def outgoing(doc: dict) -> Outgoing:
    return Outgoing.from_doc(doc)
