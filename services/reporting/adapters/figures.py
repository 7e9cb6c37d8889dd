"""Reading the precomputed figures of one organisation (its whole subtree): at most three
documents by `_id`, whatever the number of members or branches below it (figure_store.py).

The readers take `get(collection, _id)`: the database's (`from_db`) for queries, or a handler's
`ctx.get`, which also sees the batch's staged writes, to evaluate alerts on every event."""
from collections.abc import Awaitable, Callable
from services.reporting.adapters.documents import entries_of, figures_id, figures_of, years_id
from services.reporting.domain.contributions import DAY_SERIES
from services.reporting.domain.report import Sums
from shared.periods import Period


Get = Callable[[str, str], Awaitable[dict | None]]


def from_db(db) -> Get:
    async def get(coll: str, _id: str) -> dict | None:
        return await db[coll].find_one({"_id": _id})
    return get


async def _status_doc(get: Get, org_id: str, day: str) -> dict | None:
    """The `*` document of the latest year up to `day`'s."""
    index = await get(figures_of(org_id, DAY_SERIES), years_id(org_id))
    years = [y for y in (index or {}).get("years", []) if y <= day[:4]]
    return await get(figures_of(org_id, DAY_SERIES), figures_id(DAY_SERIES, org_id, max(years))) if years else None


async def org_sums(get: Get, org_id: str, period: Period, day: str) -> Sums:
    sums = Sums()
    status = await _status_doc(get, org_id, day)
    if status:
        totals = dict(status.get("opening", {}))
        for (d, f), v in entries_of(status).items():
            if d <= day and f != "died":
                totals[f] = totals.get(f, 0) + v
            if f == "died" and period.start.isoformat() <= d <= day:
                sums.died += v
        sums.day = totals
    counters = await get(figures_of(org_id, period.text), figures_id(period.text, org_id, period.text[:4]))
    for (d, f), v in entries_of(counters or {}).items():
        if d <= day:
            sums.period[f] = sums.period.get(f, 0) + v
    return sums


async def registered_history(get: Get, branch_id: str, day: str) -> list[tuple[str, int]]:
    """(day, registered members from that day) for each change up to `day`."""
    index = await get(figures_of(branch_id, DAY_SERIES), years_id(branch_id))
    out, total = [], 0
    for year in (index or {}).get("years", []):
        doc = await get(figures_of(branch_id, DAY_SERIES), figures_id(DAY_SERIES, branch_id, year))
        for (d, f), v in sorted(entries_of(doc or {}).items()):
            if f == "reg" and d <= day:
                total += v
                out.append((d, total))
    return out
