"""Typed repositories over the unit of work: handlers deal in domain objects, not documents.

A service declares each of its collections once (`Collection(name, to_doc, from_doc)`, in its
adapters), and a handler asks its context for the repository: `await ctx.repo(MEMBERS).get(id)`
gives a `Member` or None, `ctx.repo(MEMBERS).add(member)` stages its snapshot. Underneath it is
the same unit of work, so the batch's cache, staging and version checks apply, and a fake unit of
work serves handler unit tests.
"""
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from shared.messaging.unit_of_work import VERSION, UnitOfWork

T = TypeVar("T")


@dataclass(frozen=True)
class Collection(Generic[T]):
    name: str
    to_doc: Callable[[T], dict]
    from_doc: Callable[[dict], T]


class Repository(Generic[T]):
    def __init__(self, uow: UnitOfWork, coll: Collection[T]):
        self._uow, self._coll = uow, coll

    async def get(self, _id: str) -> T | None:
        doc = await self._uow.get(self._coll.name, _id)
        if doc is None:
            return None
        doc.pop(VERSION, None)
        return self._coll.from_doc(doc)

    async def peek(self, _id: str) -> T | None:
        """The object as this message sees it, built on the unit of work's own document rather than
        a copy: only to look at. Never change it or `add` it (its lists are the cached document's);
        `get` gives one to change. For a decision that most often ends in "nothing to do", the copy
        `get` makes costs more than the decision (a notice's recipients, a member's facts)."""
        doc = await self._uow.read(self._coll.name, _id)
        return None if doc is None else self._coll.from_doc(doc)

    async def prefetch(self, ids: Iterable[str]) -> None:
        await self._uow.prefetch((self._coll.name, i) for i in ids)

    def add(self, obj: T, new: bool = False) -> dict:
        """Stage the object's snapshot; returns the document staged. `new`: see `UnitOfWork.put`."""
        doc = self._coll.to_doc(obj)
        self._uow.put(self._coll.name, doc, new)
        return doc

    def remove(self, _id: str) -> None:
        self._uow.delete(self._coll.name, _id)
