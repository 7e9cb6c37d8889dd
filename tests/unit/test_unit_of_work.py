"""The batch unit of work: per-message staging, rollback, and the batch's final snapshots."""
import pytest

from shared.messaging.records import Outgoing
from shared.messaging.unit_of_work import UnitOfWork

pytestmark = pytest.mark.unit


class _Cursor:
    def __init__(self, docs):
        self.docs = list(docs)

    def __aiter__(self):
        self._it = iter(self.docs)
        return self

    async def __anext__(self):
        try:
            return next(self._it)
        except StopIteration:
            raise StopAsyncIteration


class _Collection:
    """An in-memory stand-in for the two read calls the unit of work makes (unit tests only)."""

    def __init__(self, docs):
        self.docs = {d["_id"]: d for d in docs}
        self.queries = 0

    def find(self, flt):
        self.queries += 1
        return _Cursor(self.docs[i] for i in flt["_id"]["$in"] if i in self.docs)

    async def find_one(self, flt):
        self.queries += 1
        return self.docs.get(flt["_id"])


class _Db(dict):
    def __missing__(self, name):
        self[name] = _Collection([])
        return self[name]


async def test_prefetch_then_reads_hit_the_cache_and_copies_are_private():
    db = _Db(orgs=_Collection([{"_id": "b1", "n": 1}]))
    uow = UnitOfWork(db)
    await uow.prefetch([("orgs", "b1"), ("orgs", "b2")])
    doc = await uow.get("orgs", "b1")
    doc["n"] = 99  # mutating a read copy changes nothing
    assert (await uow.get("orgs", "b1"))["n"] == 1
    assert await uow.get("orgs", "b2") is None
    assert db["orgs"].queries == 1


async def test_later_messages_see_earlier_ones_and_a_rollback_discards_only_its_message():
    uow = UnitOfWork(_Db())
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
    assert uow.writes == [("m", "a", None)]
    assert [r.value for r in uow.outbox] == [b"1"]
