"""The sections of a community's or a district's report, kept while what they read is unchanged.

An organisation's report sums its branches' leadership, grades and service requests; over a
district of 2,000 branches that is reading several megabytes and most of a second's work
(docs/architecture.md, "Reports over many branches"). Those documents change rarely, so the sums
are kept in this process, under a key that holds the checksums of every collection they read
(adapters/section_checksums.py): any change to them, by any instance, changes the key, and the
next report computes afresh. The figures of the report (members, attendance, dues) are not kept
here; they are read for every report from their precomputed documents.

The caller reads the checksums (`section_checksums.current`) BEFORE the documents: a change
committed in between is then either in both or caught by the next report's key, never kept under
the newer key with older sums.
"""
import copy
from collections import OrderedDict
from collections.abc import Awaitable, Callable

Compute = Callable[[], Awaitable[tuple[dict, bool]]]


class SectionCache:
    def __init__(self, size: int = 256):
        self.size = size
        self._entries: OrderedDict[tuple, dict] = OrderedDict()
        self.hits = self.misses = 0

    async def sections(self, db_name: str, reads: tuple[str, ...], checksums: dict[str, int], org_id: str,
                       period: str, day: str, compute: Compute) -> dict:
        """Sections for (organisation, period, reading day) computed from the collections `reads`:
        kept ones while those collections' `checksums` hold, else `compute()`, which returns the
        sections and whether they may be kept. A copy is returned, so a caller that changes its
        report (masking a sum) changes nothing kept."""
        key = (db_name, reads, org_id, period, day, tuple(checksums[c] for c in reads))
        kept = self._entries.get(key)
        if kept is not None:
            self.hits += 1
            self._entries.move_to_end(key)
            return copy.deepcopy(kept)
        self.misses += 1
        sections, keep = await compute()
        if keep:
            self._entries[key] = copy.deepcopy(sections)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return sections

    def clear(self) -> None:
        """Forget every kept section (a benchmark timing the sums computed afresh)."""
        self._entries.clear()


SECTIONS = SectionCache()
