"""Counters kept by the database in step with a collection's documents (a materialised `$group`).

A query that counts a large set — e.g. the recipients of a district-wide notice by state, 100,000
deliveries — costs a scan every time it is asked. A `Tally` keeps those counts instead: for every
write a unit of work commits to the watched collection, the store compares what the document
counted for before (as the unit read it) with what it counts for now, and adds the difference
with `$inc` to the tally documents, in the same transaction. So the counts are exactly those of
the committed documents, whichever handler, worker or instance wrote them, and a reader sums a
few tally documents instead of scanning.

`count(doc)` says what one document counts for: {tally document id: {counter: n}}; `on_insert`
gives the fields a new tally document starts with (its keys, for queries). Both are pure.
"""
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Tally:
    watched: str  # the collection whose documents are counted
    into: str  # the collection of the tally documents
    count: Callable[[dict], dict[str, dict[str, int]]]
    on_insert: Callable[[dict], dict]

    def difference(self, before: dict | None, after: dict | None) -> dict[str, tuple[dict[str, int], dict]]:
        """{tally id: (counts to add, fields of a new tally document)} for one document's change."""
        out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        starts: dict[str, dict] = {}
        for doc, sign in ((before, -1), (after, 1)):
            if doc is None:
                continue
            for tally_id, counts in self.count(doc).items():
                starts.setdefault(tally_id, self.on_insert(doc))
                for k, n in counts.items():
                    out[tally_id][k] += sign * n
        return {t: (c, starts[t]) for t, counts in out.items() if (c := {k: n for k, n in counts.items() if n})}
