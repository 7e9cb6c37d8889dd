"""Reading the precomputed figures of one organisation (its whole subtree): three documents by
`_id` (figure_store.py), whatever the number of members or branches below it.

The readers take a `Reader`: the database's (`DbReader`, one `$in` query per collection for a
set of documents) for queries, or a handler's (`ContextReader`), which also sees the batch's
staged writes, to evaluate alerts on every event."""
import asyncio
from collections import defaultdict
from collections.abc import Iterable
from typing import Protocol

from services.reporting.adapters.documents import FIGURES, ORG_TOTALS, REG_DAYS, figures_id, figures_year
from services.reporting.domain import alerts as al
from services.reporting.domain.contributions import DAY_SERIES
from services.reporting.domain.report import Sums, counted_required
from shared.periods import Period, parse_period
from shared.rules.org_life import Requirement

Key = tuple[str, str]


class Reader(Protocol):
    async def docs(self, keys: Iterable[Key], day: str | None = None) -> dict[Key, dict | None]:
        """The documents by key; with `day`, a figures document may hold only what a reading as
        of that day needs (its month totals and the days of that month)."""
        ...


def as_of_fields(day: str) -> dict:
    """The projection of a figures document that a reading as of `day` needs."""
    return {"org": 1, "series": 1, "year": 1, "m": 1,
            **{f"d.{day[:8]}{dd:02d}": 1 for dd in range(1, int(day[8:10]) + 1)}}


class DbReader:
    """Documents by `_id`, remembered for the reader's lifetime (one request)."""

    def __init__(self, db):
        self.db = db
        self._whole: dict[Key, dict | None] = {}
        self._as_of: dict[tuple[Key, str], dict | None] = {}

    def _known(self, key: Key, day: str | None) -> bool:
        return key in self._whole or (day is not None and key[0] == FIGURES and (key, day) in self._as_of)

    def _get(self, key: Key, day: str | None) -> dict | None:
        return self._whole[key] if key in self._whole else self._as_of[(key, day)]

    async def docs(self, keys: Iterable[Key], day: str | None = None) -> dict[Key, dict | None]:
        keys = list(dict.fromkeys(keys))
        wanted: dict[tuple[str, bool], list[str]] = defaultdict(list)
        for coll, _id in keys:
            if not self._known((coll, _id), day):
                wanted[(coll, day is not None and coll == FIGURES)].append(_id)
        if wanted:
            found = await asyncio.gather(*(
                self.db[coll].find({"_id": {"$in": ids}}, as_of_fields(day) if partial else None).to_list(None)
                for (coll, partial), ids in wanted.items()))
            for ((coll, partial), ids), docs in zip(wanted.items(), found):
                by_id = {d["_id"]: d for d in docs}
                for _id in ids:
                    if partial:
                        self._as_of[((coll, _id), day)] = by_id.get(_id)
                    else:
                        self._whole[(coll, _id)] = by_id.get(_id)
        return {k: self._get(k, day) for k in keys}

    async def preload_year(self, org_ids: list[str], year: int, period: Period) -> None:
        """What the dashboard's series of these organisations read, in one query by `_id`: their
        statuses of the year, its twelve months and the series' period (the year, a quarter or a
        month), and their totals. Not the year's other periods: a quarter of the bytes read and
        decoded over a district's communities, and never used (15 % of the preload's time)."""
        y = str(year)
        series = dict.fromkeys([DAY_SERIES, *parse_period(y).months, period.text])
        await self.docs([(FIGURES, figures_id(org, s, figures_year(s, f"{y}-01-01"))) for org in org_ids for s in series]
                        + [(ORG_TOTALS, org) for org in org_ids])


class ContextReader:
    """A handler's view: committed documents with the batch's staged changes applied."""

    def __init__(self, ctx):
        self.ctx = ctx

    async def docs(self, keys: Iterable[Key], day: str | None = None) -> dict[Key, dict | None]:
        keys = list(dict.fromkeys(keys))
        await self.ctx.uow.prefetch(keys)
        return {k: await self.ctx.get(*k) for k in keys}


def _sum_keys(org_id: str, period: Period, day: str) -> list[Key]:
    return [(ORG_TOTALS, org_id), (FIGURES, figures_id(org_id, DAY_SERIES, day[:4])),
            (FIGURES, figures_id(org_id, period.text, period.text[:4]))]


async def prefetch_sums(reader: Reader, org_ids: Iterable[str], period: Period, day: str) -> None:
    """What `org_sums` will read for each of these organisations, at once."""
    await reader.docs((k for org in org_ids for k in _sum_keys(org, period, day)), day)


def _entries(doc: dict | None) -> dict[str, dict[str, int]]:
    return (doc or {}).get("d") or {}


def _up_to(doc: dict | None, day: str):
    """(day or month, counts) of a figures document's changes up to `day`: the totals of the
    months before the day's month, then that month's days up to the day."""
    month = day[:7]
    for mo, counts in ((doc or {}).get("m") or {}).items():
        if mo < month:
            yield mo, counts
    for d, counts in _entries(doc).items():
        if d[:7] == month and d <= day:
            yield d, counts


async def org_sums(reader: Reader, org_id: str, period: Period, day: str) -> Sums:
    keys = _sum_keys(org_id, period, day)
    got = await reader.docs(keys, day)
    years, status, counters = (got[k] for k in keys)
    sums = Sums()
    totals: dict[str, int] = defaultdict(int)
    for year, counts in ((years or {}).get("years") or {}).items():  # the opening of day's year
        if year < day[:4]:
            for f, v in counts.items():
                if f != "died":
                    totals[f] += v
    start = period.start.isoformat()
    for when, counts in _up_to(status, day):  # a month (YYYY-MM) or a day: both compare with start
        for f, v in counts.items():
            if f != "died":
                totals[f] += v
            elif when >= start[:len(when)]:
                sums.died += v
    sums.day = {f: v for f, v in totals.items() if v}
    p: dict[str, int] = defaultdict(int)
    for _when, counts in _up_to(counters, day):
        for f, v in counts.items():
            p[f] += v
    sums.period = {f: v for f, v in p.items() if v}
    return sums


async def required(reader: Reader, org_id: str, period: Period, rules: tuple[Requirement, ...]) -> dict[str, int]:
    """What the subtree's branches must hold in the period, from the organisation's counts of
    its branches by settings (figure_store.count_branch)."""
    totals = (await reader.docs([(ORG_TOTALS, org_id)]))[(ORG_TOTALS, org_id)] or {}
    return counted_required(totals.get("branches") or {}, totals.get("merged") or {}, period, rules)


def history_keys(branch_id: str, totals: dict | None, day: str) -> list[Key]:
    """The documents `registered_history` reads besides the branch's `org_totals` (`totals`): none
    when that keeps its members' changes by day (figure_store.py), else its `*` document of every
    year up to `day`'s."""
    if (totals or {}).get(REG_DAYS):
        return []
    return [(FIGURES, figures_id(branch_id, DAY_SERIES, y))
            for y in sorted(y for y in ((totals or {}).get("touched") or {}) if y <= day[:4])]


async def registered_history(reader: Reader, branch_id: str, day: str) -> list[tuple[str, int]]:
    """(day, registered members from that day) for each change up to `day`."""
    totals = (await reader.docs([(ORG_TOTALS, branch_id)]))[(ORG_TOTALS, branch_id)]
    keys = history_keys(branch_id, totals, day)
    if keys:  # a document created before it kept them: from the `*` documents, in the order of the years
        docs = await reader.docs(keys)
        changes = [(d, entries[d].get("reg", 0)) for entries in (_entries(doc) for doc in docs.values())
                   for d in sorted(entries)]
    else:
        changes = sorted(((totals or {}).get("reg") or {}).items())
    out, total = [], 0
    for d, v in changes:
        if v and d <= day:
            total += v
            out.append((d, total))
    return out


async def prefetch_branch_states(reader: Reader, branch_ids: list[str], day: str) -> None:
    """What `branch_state` will read for each of these branches, in two rounds of queries."""
    totals = await reader.docs((ORG_TOTALS, b) for b in branch_ids)
    quarter = parse_period(al.last_complete_quarter(day))
    keys: list[Key] = []
    for b in branch_ids:
        keys += history_keys(b, totals[(ORG_TOTALS, b)], day)
        keys += _sum_keys(b, quarter, quarter.end.isoformat())
    await reader.docs(keys)
