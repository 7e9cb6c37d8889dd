"""A batch's view of the service's documents.

Reads go through a cache filled by one `$in` query per collection for the whole batch (no
round trip per message). Writes are staged per message, so a message whose handler fails is
rolled back without touching the others, and every later message of the batch sees the
effects of the earlier ones. Nothing reaches the database here: the journal does that.
"""
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from shared.messaging.records import Outgoing

Key = tuple[str, str]
_MISSING = object()


def clone(doc: Any) -> Any:
    """A private copy of a JSON-like document (dicts, lists, scalars): 5-10x faster than deepcopy."""
    if isinstance(doc, dict):
        return {k: clone(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [clone(v) for v in doc]
    return doc


class UnitOfWork:
    def __init__(self, db: Any):
        self._db = db
        self._cache: dict[Key, dict | None] = {}
        self._batch: dict[Key, dict | None] = {}  # None marks a deletion
        self._staged: dict[Key, dict | None] = {}
        self._batch_out: list[Outgoing] = []
        self._staged_out: list[Outgoing] = []

    async def prefetch(self, keys: Iterable[Key]) -> None:
        wanted: dict[str, set[str]] = defaultdict(set)
        for coll, _id in keys:
            if (coll, _id) not in self._cache:
                wanted[coll].add(_id)
        for coll, ids in wanted.items():
            found = {d["_id"]: d async for d in self._db[coll].find({"_id": {"$in": list(ids)}})}
            for _id in ids:
                self._cache[(coll, _id)] = found.get(_id)

    async def get(self, coll: str, _id: str) -> dict | None:
        """A private copy of the document as this message sees it, or None."""
        key = (coll, _id)
        for layer in (self._staged, self._batch, self._cache):
            doc = layer.get(key, _MISSING)
            if doc is not _MISSING:
                return clone(doc)
        doc = await self._db[coll].find_one({"_id": _id})
        self._cache[key] = doc
        return clone(doc)

    def put(self, coll: str, doc: dict) -> None:
        """Stage a whole document. The unit of work takes it over: do not change it afterwards."""
        self._staged[(coll, doc["_id"])] = doc

    def delete(self, coll: str, _id: str) -> None:
        self._staged[(coll, _id)] = None

    def send(self, record: Outgoing) -> None:
        self._staged_out.append(record)

    def pending(self, coll: str) -> dict[str, dict | None]:
        """This batch's not-yet-written versions of a collection's documents (for queries)."""
        out = {k[1]: v for k, v in self._batch.items() if k[0] == coll}
        out.update({k[1]: v for k, v in self._staged.items() if k[0] == coll})
        return out

    def commit_message(self) -> None:
        self._batch.update(self._staged)
        self._batch_out.extend(self._staged_out)
        self.rollback_message()

    def rollback_message(self) -> None:
        self._staged = {}
        self._staged_out = []

    @property
    def writes(self) -> list[tuple[str, str, dict | None]]:
        return [(c, i, d) for (c, i), d in self._batch.items()]

    def is_new(self, coll: str, _id: str) -> bool:
        """True when the document was read as absent in this batch: it can be inserted, not replaced."""
        return self._cache.get((coll, _id), _MISSING) is None

    @property
    def outbox(self) -> list[Outgoing]:
        return list(self._batch_out)
