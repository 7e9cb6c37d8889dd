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

`shards`: writers that change the same counts at once (a notice's delivery worker, the pipelines
settling and acknowledging its deliveries) would all `$inc` one document, and in transactions all
but one of them lose (a write conflict) and run their whole unit again. With `shards` > 1 a unit
adds to one of that many documents of each tally id, picked at random, and a reader sums a
tally's documents (`merged`). The first shard keeps the plain id, so a tally with one shard is as
before.
"""
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

SHARD_SEP = "~"  # between a tally id and its shard's number (never in an id: shared/contracts/types.py)


@dataclass(frozen=True)
class Tally:
    watched: str  # the collection whose documents are counted
    into: str  # the collection of the tally documents
    count: Callable[[dict], dict[str, dict[str, int]]]
    on_insert: Callable[[dict], dict]
    shards: int = 1

    def shard_id(self, tally_id: str, shard: int) -> str:
        return tally_id if shard == 0 else f"{tally_id}{SHARD_SEP}{shard}"

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


def merged(docs: Iterable[dict], keys: tuple[str, ...]) -> list[dict]:
    """A sharded tally's documents as one per tally (the same `keys`, the fields `on_insert` gave),
    their counters summed (nested ones too); without `_id` and `_v`, in the order first seen."""
    out: dict[tuple, dict] = {}
    for d in docs:
        k = tuple(d.get(f) for f in keys)
        into = out.setdefault(k, {f: d.get(f) for f in keys})
        _add(into, {f: v for f, v in d.items() if f not in keys and f not in ("_id", "_v")})
    return list(out.values())


def _add(into: dict, counts: dict) -> None:
    for f, v in counts.items():
        if isinstance(v, dict):
            _add(into.setdefault(f, {}), v)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            into[f] = into.get(f, 0) + v
