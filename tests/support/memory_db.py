"""A few documents in memory, read as the HTTP side reads MongoDB: `await db[coll].find_one(filter)`.

Enough of the query language for lookups by id and by place (`_id`, a field equal to a value or
holding it in an array, `$in`, `$or`); projections are ignored. For unit tests of entrypoint
lookups (the command scope tables); handlers use `tests.support.fake_uow`.
"""
from typing import Any


def _matches(doc: dict, query: dict) -> bool:
    for field, want in query.items():
        if field == "$or":
            if not any(_matches(doc, q) for q in want):
                return False
            continue
        have = doc.get(field)
        wanted = want["$in"] if isinstance(want, dict) and "$in" in want else [want]
        values = have if isinstance(have, list) else [have]
        if not any(v in wanted for v in values):
            return False
    return True


class _Collection:
    def __init__(self, docs: list[dict]):
        self.docs = docs

    async def find_one(self, query: dict, projection: Any = None) -> dict | None:
        return next((dict(d) for d in self.docs if _matches(d, query)), None)


class MemoryDb:
    def __init__(self, collections: dict[str, list[dict]]):
        self.collections = collections

    def __getitem__(self, name: str) -> _Collection:
        return _Collection(self.collections.get(name, []))
