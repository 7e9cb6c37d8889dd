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

The cache also remembers which sections were asked for, and when (`asked`): a background task
(sections_refresh.py) computes those again soon after what they read changes, so the next official
to open the report finds them kept instead of waiting most of a second for them.
"""
import copy
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from prometheus_client import Counter

from services.reporting.in_flight import InFlight

Compute = Callable[[], Awaitable[tuple[dict, bool]]]
# kept: a report found them kept; joined: a report waited for them being computed; computed: a
# report computed them; refreshed: computed ahead of the next report (sections_refresh.py).
SECTIONS_METRIC = Counter("sunsetred_report_sections", "Sections of community and district reports, by how they "
                          "were had", ["how"])


class SectionCache:
    def __init__(self, size: int = 256):
        self.size = size
        self._entries: OrderedDict[tuple, dict] = OrderedDict()
        self._computing = InFlight()  # key → its computation under way
        self.hits = self.misses = 0
        # (database, organisation, period, reading day) → when a report last asked for its sections
        # (time.monotonic()), at most `size` of them, the oldest forgotten first.
        self.asked: OrderedDict[tuple[str, str, str, str], float] = OrderedDict()
        # The checksums the refresh last computed each of those under (sections that may not be
        # kept, a service request placed by a member's facts, are computed once a change, not
        # every round).
        self.refreshed_under: dict[tuple[str, str, str, str], tuple] = {}

    def note_asked(self, db_name: str, org_id: str, period: str, day: str) -> None:
        key = (db_name, org_id, period, day)
        self.asked[key] = time.monotonic()
        self.asked.move_to_end(key)
        while len(self.asked) > self.size:
            self.refreshed_under.pop(self.asked.popitem(last=False)[0], None)

    def holds(self, db_name: str, reads: tuple[str, ...], checksums: dict[str, int], org_id: str, period: str,
              day: str) -> bool:
        """Whether sections over `reads` are kept under these checksums (no copy made, no hit counted)."""
        return (db_name, reads, org_id, period, day, tuple(checksums[c] for c in reads)) in self._entries

    async def sections(self, db_name: str, reads: tuple[str, ...], checksums: dict[str, int], org_id: str,
                       period: str, day: str, compute: Compute, refresh: bool = False) -> dict:
        """Sections for (organisation, period, reading day) computed from the collections `reads`:
        kept ones while those collections' `checksums` hold, else `compute()`, which returns the
        sections and whether they may be kept. A copy is returned, so a caller that changes its
        report (masking a sum) changes nothing kept. `refresh`: asked by the refresh, not a report."""
        key = (db_name, reads, org_id, period, day, tuple(checksums[c] for c in reads))
        kept = self._entries.get(key)
        if kept is not None:
            self.hits += 1
            SECTIONS_METRIC.labels("kept").inc()
            self._entries.move_to_end(key)
            return copy.deepcopy(kept)
        if self._computing.under_way(key):  # by the refresh, or another report: waited for, not again
            self.hits += 1
            SECTIONS_METRIC.labels("joined").inc()
        else:
            self.misses += 1
            SECTIONS_METRIC.labels("refreshed" if refresh else "computed").inc()
        return copy.deepcopy(await self._computing.run(key, lambda: self._compute(key, compute)))

    async def _compute(self, key: tuple, compute: Compute) -> dict:
        sections, keep = await compute()
        if keep:
            self._entries[key] = sections  # handed out only as copies
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return sections

    def clear(self) -> None:
        """Forget every kept section (a benchmark timing the sums computed afresh)."""
        self._entries.clear()
        self.asked.clear()
        self.refreshed_under.clear()


SECTIONS = SectionCache()
