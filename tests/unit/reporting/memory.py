"""Batches of reporting's handlers against the fake unit of work (tests/support/fake_uow.py):
the same staging (snapshots, `$inc`s, reads of staged changes) as production, dicts behind it."""
import asyncio

from services.reporting.adapters.documents import KEPT_ENCODED
from shared.messaging.pipeline import Context
from tests.support.fake_uow import FakeUnitOfWork, _Pipeline, run_deferred


class Store:
    """Committed documents, and the batch being staged over them (`context`, then `commit`)."""

    def __init__(self):
        self.uow = FakeUnitOfWork(kept_encoded=KEPT_ENCODED)  # as the service's units
        self.snapshots: set[str] = set()  # the collections ever written as whole snapshots
        self.events: list = []

    def context(self, envelope=None) -> Context:
        return Context(_Pipeline(), envelope, self.uow)

    def commit(self) -> None:
        """The batch's deferred work (as the pipeline runs it, before the commit), then the commit."""
        self.uow.commit_message()
        asyncio.run(run_deferred(self.uow))
        self.snapshots |= {w.coll for w in self.uow.writes if w.inc is None}
        self.uow.commit()
        self.events += self.uow.published
        self.uow = FakeUnitOfWork(self.uow.docs, kept_encoded=KEPT_ENCODED)

    def doc(self, coll: str, _id: str) -> dict | None:
        return self.uow.docs[coll].get(_id)
