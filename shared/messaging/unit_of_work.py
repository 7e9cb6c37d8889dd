"""A batch's view of the service's documents: the `UnitOfWork` port and its staging logic.

Reads go through a cache filled by one `$in` query per collection for the whole batch (no round
trip per message). Writes are staged per message, so a message whose handler fails is rolled back
without touching the others, and every later message of the batch sees the effects of the
earlier ones. Nothing reaches the database here: an adapter (`mongo_uow.py`) commits what is
staged, in one transaction, each write conditional on the version that was read.

Three kinds of write:
- `put`: a whole snapshot, committed only if the document still has the version (`_v`) the batch
  read (inserted when it was read as absent); `changed`: the caller names the paths in which the
  snapshot differs from the document as read, and the write sets those alone, on the same
  condition (a large document of which a batch changes a small part: the database's cost of a
  write grows with the bytes it is sent);
- `delete`: the same condition;
  (either, `guarded`: a document derived from another that the batch writes in the same
  transaction, conditionally: that write serializes both, so this one is written without a
  condition, and is neither read first nor at the commit for its version. Its `_v` is not kept:
  a collection written guarded is written guarded only);
- `inc`: a `$inc` of counters (upserted), which commutes with any other `$inc`, so it needs no
  condition; it bumps the version so that a snapshot writer of the same document notices.

Snapshots of the collections an adapter writes ahead (`take_ahead`) may leave the stage before the
commit, into the batch's transaction, while the batch's deferred work goes on: they are then held as
the transaction holds them, with the version written, and a later write of the same document in the
batch is conditional on that version.

A service may name collections whose documents the unit keeps encoded (`kept_encoded`): as read,
and as snapshots once their message is done. Each read decodes a private copy. For large
documents read once or twice a batch (reporting's members: a year of facts, 14 KB stored at
the median, one of 18 KB 127 KB once decoded), a batch then holds what was stored instead of what Python makes of
it, and a reader that changes its copy needs no clone.
"""
import pickle
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.messaging.records import Outgoing

Key = tuple[str, str]
VERSION = "_v"
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Encoded:
    """A document as stored (BSON) in a collection the unit keeps encoded."""

    data: bytes
    version: int = 0  # its `_v` as read (0: none); unused for a snapshot the batch wrote


class Conflict(Exception):
    """Another writer changed a document this batch read: the batch is run again on fresh reads."""


class UnitOfWork(Protocol):
    """What handlers use (through `Context`): fakes implement it for unit tests."""

    async def prefetch(self, keys: Iterable[Key]) -> None: ...
    async def get(self, coll: str, _id: str) -> dict | None: ...
    async def read(self, coll: str, _id: str) -> dict | None: ...
    def put(self, coll: str, doc: dict, new: bool = False, guarded: bool = False,
            changed: Iterable[str] | None = None) -> None: ...
    def delete(self, coll: str, _id: str, guarded: bool = False) -> None: ...
    def inc(self, coll: str, _id: str, counts: dict[str, int], on_insert: dict | None = None) -> None: ...
    def depend_on(self, coll: str, _id: str, fence: bool = False) -> None: ...
    def send(self, record: Outgoing) -> None: ...
    def defer(self, key: Any, run: Callable[[], Awaitable[None]], cause: Any = None) -> None: ...
    def reserve(self, documents: int) -> None: ...
    def beside(self, key: Any, make: Callable[[], Any]) -> Any: ...
    def pending(self, coll: str) -> dict[str, dict | None]: ...


def clone(doc: Any) -> Any:
    """A private copy of a document: pickle's C code copies a nested document about twice as fast
    as a recursive copy in Python, and 8x faster than deepcopy (a member's facts run to hundreds of
    nested values, copied on every read)."""
    if doc is None:
        return None
    return pickle.loads(pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL))


def apply_inc(doc: dict, counts: dict[str, int]) -> dict:
    """`$inc` applied in memory: dotted paths create the nested documents they name."""
    for path, n in counts.items():
        *parents, last = path.split(".")
        node = doc
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = node.get(last, 0) + n
    return doc


@dataclass
class Inc:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    on_insert: dict = field(default_factory=dict)

    def add(self, counts: dict[str, int], on_insert: dict | None) -> "Inc":
        """Add in place (the caller owns this Inc: see `StagedUnitOfWork.inc`)."""
        for k, v in counts.items():
            self.counts[k] += v
        if on_insert:
            self.on_insert = {**on_insert, **self.on_insert}  # the first values win
        return self

    def plus(self, later: "Inc") -> "Inc":
        """A new Inc: this one, then `later`."""
        return Inc(defaultdict(int, self.counts), dict(self.on_insert)).add(later.counts, later.on_insert)


@dataclass
class Write:
    """What a batch owes one document: a snapshot (None: delete) or an `$inc`."""

    coll: str
    _id: str
    doc: dict | Encoded | None = None
    inc: Inc | None = None
    read_version: Any = _MISSING  # the `_v` read (None: read as absent; _MISSING: never read)
    # Not a change but a condition (`StagedUnitOfWork.depend_on`): "check" (the document is still
    # as read) or "fence" (the same, and a concurrent writer of it conflicts: its version moves).
    condition: str | None = None
    guarded: bool = False  # written without a condition (`StagedUnitOfWork.put`)
    # A snapshot that differs from the document as read only at these paths (`put(changed=...)`):
    # path → value, for a write that sets them alone.
    sets: dict[str, Any] | None = None

    @property
    def version_written(self) -> int:
        """The `_v` a snapshot's write gives it: none kept when guarded, 1 inserted, else one more
        than read."""
        if self.guarded:
            return 0
        return 1 if self.read_version is None else self.read_version + 1

    @property
    def blind(self) -> bool:
        """Never read, and written on a condition: its version is to be read at the commit."""
        return self.read_version is _MISSING and not self.guarded


class StagedUnitOfWork:
    """The staging logic of every unit of work; an adapter supplies `_load` and the commit."""

    def __init__(self, kept_encoded: Iterable[str] = (), assume_new: bool = True) -> None:
        self.kept_encoded = frozenset(kept_encoded)
        # Documents a handler put as new (`put(new=True)`), the message's and the batch's: written
        # as inserts without being read first. `assume_new=False` reads them as any other.
        self.assume_new = assume_new
        self._staged_new: set[Key] = set()
        self._batch_new: set[Key] = set()
        self._staged_guarded: set[Key] = set()  # see `put`
        self._batch_guarded: set[Key] = set()
        # The paths at which a snapshot differs from the document as read, with their values (see
        # `put`): the message's and the batch's; a snapshot put without them is written whole.
        self._staged_sets: dict[Key, dict[str, Any]] = {}
        self._batch_sets: dict[Key, dict[str, Any] | None] = {}
        self._cache: dict[Key, dict | Encoded | None] = {}
        self._batch: dict[Key, dict | Encoded | None | Inc] = {}  # None marks a deletion
        self._staged: dict[Key, dict | None | Inc] = {}
        self._batch_out: list[Outgoing] = []
        self._staged_out: list[Outgoing] = []
        # Documents the batch's result depends on without writing them (see `depend_on`).
        self._depends: dict[Key, bool] = {}
        # Work a message asks to run once at the end of the batch (see `defer`).
        self._batch_deferred: dict[Any, tuple[Any, Callable]] = {}
        self._staged_deferred: dict[Any, tuple[Any, Callable]] = {}
        # Documents deferred work will bring in (see `reserve`), the batch's and the message's.
        self._batch_reserved = self._staged_reserved = 0
        self._beside: dict[Any, Any] = {}  # see `beside`
        # The size of the documents read, as stored (BSON bytes; an adapter counts them): what a
        # batch's memory grows with, more than their number (a reporting member's year of facts is
        # 15 KB stored, 100 KB once decoded, against a delivery's 0.7 KB).
        self.bytes_by_collection: dict[str, int] = defaultdict(int)
        self.found_by_collection: dict[str, int] = defaultdict(int)  # documents found, by collection
        # Snapshots of the collections in `ahead` the batch's messages are done with, in the order
        # they were, not taken yet (`take_ahead`); and the documents written ahead.
        self.ahead: frozenset[str] = frozenset()
        self._ready: dict[Key, None] = {}
        self._ready_bytes = 0
        self._written_ahead: set[Key] = set()

    async def _load(self, coll: str, ids: list[str]) -> dict[str, dict | Encoded]:
        """The documents found, decoded, or `Encoded` for a collection in `kept_encoded`."""
        raise NotImplementedError

    def _decode(self, data: bytes) -> dict:
        raise NotImplementedError

    def _encode(self, doc: dict) -> bytes:
        raise NotImplementedError

    def decoded(self, value: Any) -> Any:
        """A document as handlers see it: `Encoded` decoded (a private copy), anything else as is."""
        return self._decode(value.data) if isinstance(value, Encoded) else value

    def _private(self, value: Any) -> Any:
        return self._decode(value.data) if isinstance(value, Encoded) else clone(value)

    def _kept(self, key: Key, value: Any) -> Any:
        """A snapshot of a collection kept encoded, encoded (without `_v`: the commit sets it)."""
        if key[0] not in self.kept_encoded or not isinstance(value, dict):
            return value
        return Encoded(self._encode({k: v for k, v in value.items() if k != VERSION}))

    def size(self) -> int:
        """The documents held: read, and written by the batch, and those its deferred work will read."""
        return len(self._cache) + len(self._batch) + self._batch_reserved

    def held_by_collection(self) -> dict[str, int]:
        """The documents held (read, or written by the batch), by collection: what a large batch
        holds, for its log line."""
        counts: dict[str, int] = defaultdict(int)
        for coll, _id in set(self._cache) | set(self._batch):
            counts[coll] += 1
        return dict(counts)

    def reserve(self, documents: int) -> None:
        """Count documents that this message's deferred work will read at the end of the batch
        (at most), so that a batch is cut by what it will hold, not only by what it holds yet."""
        self._staged_reserved += documents

    def beside(self, key: Any, make: Callable[[], Any]) -> Any:
        """What handlers gather for their deferred work (`defer`), kept with this unit of work, so
        a batch run again starts afresh: `make()` the first time `key` is asked. Not staged per
        message: a handler adds to it as its last step, after anything that could fail."""
        if key not in self._beside:
            self._beside[key] = make()
        return self._beside[key]

    @property
    def bytes_read(self) -> int:
        return sum(self.bytes_by_collection.values())

    @property
    def documents_read(self) -> int:
        return sum(self.found_by_collection.values())

    def mean_sizes(self) -> dict[str, float]:
        """The mean stored size of the documents read, by collection: what a reader sizing its next
        read by bytes should expect of each document."""
        return {c: self.bytes_by_collection[c] / n for c, n in self.found_by_collection.items() if n}

    def holds(self, key: Key) -> bool:
        """Whether the document was read already (or found absent)."""
        return key in self._cache

    async def prefetch(self, keys: Iterable[Key]) -> None:
        wanted: dict[str, set[str]] = defaultdict(set)
        for coll, _id in keys:
            if (coll, _id) not in self._cache:
                wanted[coll].add(_id)
        for coll, ids in wanted.items():
            found = await self._load(coll, list(ids))
            self.found_by_collection[coll] += len(found)
            for _id in ids:
                self._cache[(coll, _id)] = found.get(_id)

    def _current(self, key: Key) -> Any:
        staged, batched = self._staged.get(key, _MISSING), self._batch.get(key, _MISSING)
        if isinstance(staged, Inc) and isinstance(batched, Inc):
            return batched.plus(staged)  # the message's counts stage only its own change
        return batched if staged is _MISSING else staged

    async def get(self, coll: str, _id: str) -> dict | None:
        """A private copy of the document as this message sees it (without `_v`), or None."""
        key = (coll, _id)
        staged = self._current(key)
        if staged is not _MISSING and not isinstance(staged, Inc):
            return self._private(staged)
        if key not in self._cache:
            await self.prefetch([key])
        doc = self._private(self._cache[key])
        if isinstance(staged, Inc):
            doc = apply_inc(doc if doc is not None else {"_id": _id, **clone(staged.on_insert)}, staged.counts)
        if doc is not None:
            doc.pop(VERSION, None)  # the unit of work keeps the version it read; handlers never see it
        return doc

    async def read(self, coll: str, _id: str) -> dict | None:
        """The document as this message sees it, NOT a copy (it may carry `_v`): for a caller that
        only reads it, e.g. to build a new snapshot, and must never change it. Saves the copy
        `get` makes, which for a large document costs more than the work done with it. (In a
        collection kept encoded, each read decodes anew: `get` costs no more there.)"""
        key = (coll, _id)
        staged = self._current(key)
        if staged is not _MISSING and not isinstance(staged, Inc):
            return self.decoded(staged)
        if isinstance(staged, Inc):
            return await self.get(coll, _id)
        if key not in self._cache:
            await self.prefetch([key])
        return self.decoded(self._cache[key])

    def put(self, coll: str, doc: dict, new: bool = False, guarded: bool = False,
            changed: Iterable[str] | None = None) -> None:
        """Stage a whole document. The unit of work takes it over: do not change it afterwards.
        `new`: the caller knows it does not exist yet (a delivery of a notice this batch creates),
        so it is inserted without being read first; if it does exist after all, the insert fails
        and the batch runs again (`Conflict`). A document staged without being read is otherwise
        read at the commit, for the version its write is conditional on. `guarded`: derived from
        a document this message writes conditionally (a reporting member's study roll, from the
        member): written whatever its version, neither read nor checked (the module says why).
        `changed`: the dotted paths at which `doc` differs from the document as this batch read it
        or last put it (a member's new attendance, their alerts): the write then sets these alone,
        if the document was read and every put of it in the batch named its paths; it is written
        whole otherwise. Their values are taken now."""
        key = (coll, doc["_id"])
        self._staged[key] = doc
        self._staged_sets.pop(key, None)
        if changed is not None and not guarded:
            self._staged_sets[key] = {p: _at(doc, p) for p in changed}
        if new and self.assume_new and key not in self._cache:
            self._staged_new.add(key)
        if guarded:
            self._staged_guarded.add(key)

    def delete(self, coll: str, _id: str, guarded: bool = False) -> None:
        self._staged[(coll, _id)] = None
        self._staged_sets.pop((coll, _id), None)
        if guarded:
            self._staged_guarded.add((coll, _id))

    def inc(self, coll: str, _id: str, counts: dict[str, int], on_insert: dict | None = None) -> None:
        # Counts on counts stage only this message's change (added to the batch's at
        # `commit_message`): no copy of what the batch already counts for the document, which
        # for an organisation's figures grows to thousands of counters in a large batch.
        key = (coll, _id)
        staged = self._staged.get(key, _MISSING)
        if isinstance(staged, Inc):
            staged.add(counts, on_insert)
            return
        current = self._batch.get(key, _MISSING) if staged is _MISSING else staged
        if current is _MISSING or isinstance(current, Inc):
            self._staged[key] = Inc().add(counts, on_insert)
        elif current is None:  # deleted in this batch, then counted again: a new document
            self._staged[key] = apply_inc({"_id": _id, **clone(on_insert or {})}, counts)
        else:  # a snapshot is staged: count on it
            self._staged[key] = apply_inc(self._private(current), counts)
            self._staged_sets.pop(key, None)  # (written whole)

    def depend_on(self, coll: str, _id: str, fence: bool = False) -> None:
        """The batch commits only if this document, read and not written, is still as it was read
        (a read alone takes no lock: two batches could each act on what the other is changing).
        `fence`: also move its version, so a writer of it in a concurrent transaction conflicts
        (one of the two runs again). A document read as absent, or never read, adds no condition."""
        key = (coll, _id)
        self._depends[key] = fence or self._depends.get(key, False)

    def send(self, record: Outgoing) -> None:
        self._staged_out.append(record)

    def defer(self, key: Any, run: Callable[[], Awaitable[None]], cause: Any = None) -> None:
        """Run `run` once at the end of the batch, however many messages ask for the same `key`
        (the last request wins): e.g. recompute a member's figures once for all the batch's events
        about the member, not once per event. Dropped if this message rolls back."""
        self._staged_deferred[key] = (cause, run)

    def take_deferred(self) -> list[tuple[Any, Any, Callable[[], Awaitable[None]]]]:
        """The batch's deferred work, in key order, now due (and forgotten)."""
        out = sorted(((k, c, r) for k, (c, r) in self._batch_deferred.items()), key=lambda x: repr(x[0]))
        self._batch_deferred = {}
        return out

    def pending(self, coll: str) -> dict[str, dict | None]:
        """This batch's not-yet-committed snapshots of a collection's documents (for queries)."""
        out = {k[1]: self.decoded(self._cache[k]) for k in self._written_ahead if k[0] == coll}
        out.update({k[1]: self.decoded(v) for k, v in self._batch.items() if k[0] == coll and not isinstance(v, Inc)})
        out.update({k[1]: v for k, v in self._staged.items() if k[0] == coll and not isinstance(v, Inc)})
        return out

    def commit_message(self) -> None:
        for key, value in self._staged.items():
            batched = self._batch.get(key)
            if isinstance(value, Inc) and isinstance(batched, Inc):
                batched.add(value.counts, value.on_insert)  # the batch's own Inc: added in place
            else:
                self._batch_sets[key] = _merged(self._batch_sets.get(key) if key in self._batch else {},
                                                self._staged_sets.get(key))
                kept = self._batch[key] = self._kept(key, value)
                if key[0] in self.ahead and not isinstance(kept, Inc) and key not in self._ready:
                    self._ready[key] = None
                    self._ready_bytes += len(kept.data) if isinstance(kept, Encoded) else 0
        self._batch_out.extend(self._staged_out)
        self._batch_new |= self._staged_new
        self._batch_guarded |= self._staged_guarded
        self._batch_deferred.update(self._staged_deferred)
        self._batch_reserved += self._staged_reserved
        self.rollback_message()

    def rollback_message(self) -> None:
        self._staged = {}
        self._staged_out = []
        self._staged_new = set()
        self._staged_guarded = set()
        self._staged_sets = {}
        self._staged_deferred = {}
        self._staged_reserved = 0

    def message_writes(self) -> set[Key]:
        """The documents the message under way has staged a write of (not a deletion)."""
        return {k for k, v in self._staged.items() if v is not None}

    def written_keys(self) -> set[Key]:
        """The documents the batch writes (its messages done so far): counted, put or deleted."""
        return set(self._batch) | self._written_ahead

    def as_read(self, coll: str, _id: str) -> dict | None:
        """The document as the unit read it from the database, or as its transaction holds it once
        written ahead (None: absent or never read)."""
        return self.decoded(self._cache.get((coll, _id)))

    def ready_ahead(self) -> tuple[int, int]:
        """How many snapshots `take_ahead` would take at most, and their encoded bytes (as first
        made ready; 0 for those not kept encoded)."""
        return len(self._ready), self._ready_bytes

    def take_ahead(self) -> list[Write]:
        """The writes of the snapshots ready to go ahead of the commit (`ahead`), taken off the
        stage: each document is held from now on as the transaction will hold it, with the
        version its write gives it, so that a later read sees it and a later write is conditional
        on it. A snapshot never read (its version unknown until the commit reads it) stays."""
        out = []
        for key in self._ready:
            value = self._batch.get(key, _MISSING)
            if value is _MISSING or isinstance(value, Inc):
                continue
            w = self._write(key, value)
            if w.blind or (w.doc is None and w.read_version is None):
                continue  # (deleting what was never there: nothing to write, the commit drops it)
            out.append(w)
            del self._batch[key]
            self._batch_sets.pop(key, None)  # a later put differs from what is written now
            self._written_ahead.add(key)
            self._cache[key] = None if w.doc is None else _held(w.doc, w.version_written)
        self._ready, self._ready_bytes = {}, 0
        return out

    def _write(self, key: Key, value: Any) -> Write:
        read = self._cache.get(key, None if key in self._batch_new else _MISSING)
        read_version = read if read is _MISSING or read is None else _version(read)
        if isinstance(value, Inc):
            return Write(*key, inc=value, read_version=read_version)
        sets = self._batch_sets.get(key) if isinstance(read_version, int) and value is not None else None
        return Write(*key, doc=value, read_version=read_version, guarded=key in self._batch_guarded, sets=sets)

    @property
    def writes(self) -> list[Write]:
        out = [self._write(key, v) for key, v in self._batch.items()]
        for (c, i), fence in self._depends.items():
            read = self._cache.get((c, i))
            if (c, i) not in self._batch and read is not None:
                out.append(Write(c, i, read_version=_version(read), condition="fence" if fence else "check"))
        return out

    @property
    def outbox(self) -> list[Outgoing]:
        return list(self._batch_out)

    @property
    def assumed_new(self) -> bool:
        """Whether the batch writes a document it assumed new without reading it."""
        return bool(self._batch_new)

    @property
    def empty(self) -> bool:
        return not self._batch and not self._batch_out and not self._depends and not self._written_ahead


def _at(doc: dict, path: str) -> Any:
    """The value at a dotted path of a document (KeyError if absent: a path named as changed that the
    snapshot lacks would have to be unset, which a `$set` does not say)."""
    node: Any = doc
    for part in path.split("."):
        node = node[part]
    return node


def _merged(before: dict[str, Any] | None, now: dict[str, Any] | None) -> dict[str, Any] | None:
    """The paths of two puts of a document in one batch (None: written whole). One path inside
    another (`a` and `a.b`) cannot go in one `$set`: then whole."""
    if before is None or now is None:
        return None
    out = {**before, **now}
    if any(p[:i] in out for p in out for i, c in enumerate(p) if c == "."):
        return None
    return out


def _version(read: dict | Encoded) -> int:
    return read.version if isinstance(read, Encoded) else read.get(VERSION, 0)


def _held(doc: dict | Encoded, version: int) -> dict | Encoded:
    """A snapshot written ahead as the unit holds it since: with the version written."""
    return Encoded(doc.data, version) if isinstance(doc, Encoded) else {**doc, VERSION: version}
