"""A write-ahead journal: how a batch's effects become durable without multi-document transactions.

FerretDB 1.24 (and a MongoDB without a replica set) has no multi-document transactions. So a
batch's whole decision (the ids it consumed, the documents it changed as full snapshots, and
the records it owes to Kafka) is first written as ONE journal document: a single-document
write is atomic (a batch larger than one document spills into parts written before it). Then it is applied: ids into the inbox, snapshots into their collections,
records to Kafka; then the journal document is deleted, and only then is the offset committed.

A crash at any point leaves either no journal document (nothing happened; the batch is
consumed again) or a complete one, which `recover` finishes. Applying twice is harmless:
snapshots replace, inbox inserts ignore duplicates, and event ids are derived from their cause,
so a consumer drops a republished event by its id.
"""
import logging
import uuid
from datetime import datetime, timezone
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import bson
from bson.codec_options import CodecOptions
from pymongo import DeleteOne, ReplaceOne
from pymongo.errors import BulkWriteError

from shared.messaging.records import Outgoing

log = logging.getLogger(__name__)
DUPLICATE_KEY = 11000
CHUNK = 8 * 1024 * 1024  # well under MongoDB's 16 MiB document limit
# FerretDB 1.24 keeps each update's SQLite cursor open until the whole update command ends, and
# a database has 100 connections: a command of about 100 updates deadlocks that database for
# good. So updates go in commands of at most this many (harmless on MongoDB).
UPDATES_PER_COMMAND = 40
CODEC = CodecOptions(tz_aware=True)


class Publisher(Protocol):
    async def send_all(self, records: list[Outgoing]) -> None: ...


class Journal:
    def __init__(self, db: Any, name: str, on_stage: Callable[[str], Awaitable[None]] | None = None):
        self._db = db
        # Called after each durable stage ("journaled", "applied"): the crash tests pause here.
        self._on_stage = on_stage
        self.journal = db[f"_journal_{name}"]
        self.inbox = db[f"_inbox_{name}"]
        self.parts = db[f"_journal_{name}_parts"]

    async def seen(self, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        return {d["_id"] async for d in self.inbox.find({"_id": {"$in": ids}}, {"_id": 1})}

    async def commit(self, consumed: list[str], writes: list[tuple[str, str, dict | None]],
                     outbox: list[Outgoing], publisher: Publisher,
                     is_new: Callable[[str, str], bool] = lambda _c, _i: False) -> None:
        if not consumed and not writes and not outbox:
            return
        body = {
            "consumed": consumed,
            # "n": the document did not exist when the batch read it, so it is inserted (much
            # cheaper than an upsert on FerretDB); a replayed insert that finds it falls back.
            "writes": [{"c": c, "i": i, "d": d, "n": d is not None and is_new(c, i)} for c, i, d in writes],
            "out": [r.to_doc() for r in outbox],
        }
        # One opaque BSON blob rather than nested documents: FerretDB decodes a stored document
        # field by field on every read or delete, which for a batch's snapshots cost ~250 ms.
        payload = bson.encode(body)
        jid = uuid.uuid4().hex
        chunks = [payload[i:i + CHUNK] for i in range(0, len(payload), CHUNK)]
        if len(chunks) > 1:  # beyond one document's size: the extra parts first, the header last
            await self.parts.insert_many([{"_id": f"{jid}/{k}", "j": jid, "b": chunk}
                                          for k, chunk in enumerate(chunks[1:], 1)])
        await self.journal.insert_one({"_id": jid, "at": datetime.now(timezone.utc), "parts": len(chunks),
                                       "b": chunks[0]})  # the commit point of the batch
        await self._stage("journaled")
        await self._apply(jid, len(chunks), body, publisher)
        await self._stage("applied")

    async def _stage(self, name: str) -> None:
        if self._on_stage:
            await self._on_stage(name)

    async def _insert_or_replace(self, coll: str, docs: list[dict]) -> None:
        try:
            await self._db[coll].insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            # Already there (a replay after a crash): write those as full replacements.
            ops = [ReplaceOne({"_id": docs[e["index"]]["_id"]}, docs[e["index"]], upsert=True) for e in errors]
            await self._bulk(coll, ops)

    async def _bulk(self, coll: str, ops: list) -> None:
        for i in range(0, len(ops), UPDATES_PER_COMMAND):
            await self._db[coll].bulk_write(ops[i:i + UPDATES_PER_COMMAND], ordered=True)

    async def recover(self, publisher: Publisher) -> int:
        """Finish every batch that was journaled but not completed (after a crash)."""
        n = 0
        async for doc in self.journal.find({}).sort("at", 1):
            log.warning("finishing a journaled batch left by a crash", extra={"journal_id": doc["_id"]})
            ids = [f"{doc['_id']}/{k}" for k in range(1, doc["parts"])]
            parts = {p["_id"]: p["b"] async for p in self.parts.find({"_id": {"$in": ids}})} if ids else {}
            payload = doc["b"] + b"".join(parts[i] for i in ids)
            await self._apply(doc["_id"], doc["parts"], bson.decode(payload, CODEC), publisher)
            n += 1
        if n == 0 and await self.parts.find_one({}) is not None:
            # Parts whose header was never written: a crash before the commit point.
            await self.parts.delete_many({})
        return n

    async def _apply(self, jid: str, n_parts: int, doc: dict, publisher: Publisher) -> None:
        if doc["consumed"]:
            try:
                await self.inbox.insert_many([{"_id": i} for i in doc["consumed"]], ordered=False)
            except BulkWriteError as exc:
                if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                    raise
        inserts: dict[str, list[dict]] = {}
        others: dict[str, list] = {}
        for w in doc["writes"]:
            if w.get("n"):
                inserts.setdefault(w["c"], []).append(w["d"])
            elif w["d"] is None:
                others.setdefault(w["c"], []).append(DeleteOne({"_id": w["i"]}))
            else:
                others.setdefault(w["c"], []).append(ReplaceOne({"_id": w["i"]}, w["d"], upsert=True))
        for coll, docs in inserts.items():
            await self._insert_or_replace(coll, docs)
        for coll, ops in others.items():
            await self._bulk(coll, ops)
        if doc["out"]:
            await publisher.send_all([Outgoing.from_doc(d) for d in doc["out"]])
        await self.journal.delete_one({"_id": jid})
        if n_parts > 1:
            await self.parts.delete_many({"_id": {"$in": [f"{jid}/{k}" for k in range(1, n_parts)]}})
