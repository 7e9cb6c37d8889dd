"""Batches of reporting's handlers against the fake unit of work (tests/support/fake_uow.py):
the same staging (snapshots, `$inc`s, reads of staged changes) as production, dicts behind it."""
import asyncio

from shared.messaging.pipeline import DEFERRED_ROUNDS, Context
from tests.support.fake_uow import FakeUnitOfWork


class _Pipeline:
    source, district = "sunsetred-test", "x-district"

    def topic_name(self, base: str) -> str:
        return base


class Store:
    """Committed documents, and the batch being staged over them (`context`, then `commit`)."""

    def __init__(self):
        self.uow = FakeUnitOfWork()
        self.snapshots: set[str] = set()  # the collections ever written as whole snapshots
        self.events: list = []

    def context(self, envelope=None) -> Context:
        return Context(_Pipeline(), envelope, self.uow)

    def commit(self) -> None:
        """The batch's deferred work (as the pipeline runs it, before the commit), then the commit."""
        self.uow.commit_message()
        asyncio.run(self._deferred())
        self.snapshots |= {w.coll for w in self.uow.writes if w.inc is None}
        self.uow.commit()
        self.events += self.uow.published
        self.uow = FakeUnitOfWork(self.uow.docs)

    async def _deferred(self) -> None:
        for _round in range(DEFERRED_ROUNDS):
            due = self.uow.take_deferred()
            if not due:
                return
            for _key, _cause, run in due:
                await run()
                self.uow.commit_message()
        raise AssertionError("deferred work still deferring more")

    def doc(self, coll: str, _id: str) -> dict | None:
        return self.uow.docs[coll].get(_id)
