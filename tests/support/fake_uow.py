"""An in-memory unit of work for handler unit tests: the same staging as production, dicts behind it."""
from collections import defaultdict

from shared.messaging.unit_of_work import VERSION, StagedUnitOfWork, apply_inc, clone


class FakeUnitOfWork(StagedUnitOfWork):
    def __init__(self, docs: dict[str, dict[str, dict]] | None = None):
        super().__init__()
        self.docs: dict[str, dict[str, dict]] = defaultdict(dict, {c: dict(d) for c, d in (docs or {}).items()})
        self.loads = 0
        self.published: list = []

    async def _load(self, coll: str, ids: list[str]) -> dict[str, dict]:
        self.loads += 1
        return {i: clone(self.docs[coll][i]) for i in ids if i in self.docs[coll]}

    def commit(self) -> None:
        """What the Mongo adapter writes, without its version checks."""
        for w in self.writes:
            current = self.docs[w.coll].get(w._id)
            if w.inc is not None:
                doc = current or {"_id": w._id, **clone(w.inc.on_insert)}
                self.docs[w.coll][w._id] = apply_inc(doc, {**w.inc.counts, VERSION: 1})
            elif w.doc is None:
                self.docs[w.coll].pop(w._id, None)
            else:
                self.docs[w.coll][w._id] = {**w.doc, VERSION: (current or {}).get(VERSION, 0) + 1}
        self.published.extend(self.outbox)
