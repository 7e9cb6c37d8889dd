"""The branch secretary's monthly allowance (每月补助): who a month is due to, and how much.

Members (which refuses a payment for a month not due to the member) and reporting (which counts
the months due and paid) both count from here, so they never disagree:
- a month's allowance is due to the member who held the secretary's post on the month's first
  day, or, when the post was empty then, to the first member appointed during the month; a month
  the post stays empty is due to nobody;
- at the rate the branch set for that month (the latest `from_month` not after it); none before
  the first rate, nor at a rate of 0.
Spans of the post are (member_id, from, until): `from` None for a secretary held from before the
records, `until` None while held; days are ISO strings, months `YYYY-MM`.
"""
from decimal import Decimal
from functools import lru_cache

Span = tuple[str, str | None, str | None]


def months_between(first: str, last: str) -> list[str]:
    out, (y, m) = [], (int(first[:4]), int(first[5:7]))
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _next_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y + 1:04d}-01" if m == 12 else f"{y:04d}-{m + 1:02d}"


def holder_of_month(spans: list[Span], month: str) -> str | None:
    return _holder(spans, f"{month}-01", f"{_next_month(month)}-01")


def _holder(spans: list[Span], first: str, next_first: str) -> str | None:
    """The holder of the month from day `first` to the day before `next_first`."""
    for member_id, start, until in spans:
        if (start is None or start <= first) and (until is None or first < until):
            return member_id
    during = sorted((start, member_id) for member_id, start, _until in spans
                    if start is not None and first < start < next_first)
    return during[0][1] if during else None


def rate_of_month(rates: list[dict], month: str) -> Decimal | None:
    """`rates`: [{from_month, amount (decimal string)}]."""
    current = [r for r in rates if r["from_month"] <= month]
    if not current:
        return None
    amount = Decimal(max(current, key=lambda r: r["from_month"])["amount"])
    return amount if amount > 0 else None


def due(spans: list[Span], rates: list[dict], month: str) -> tuple[str, Decimal] | None:
    """(member, amount) the month's allowance is due to, or None."""
    member_id, rate = holder_of_month(spans, month), rate_of_month(rates, month)
    return (member_id, rate) if member_id and rate else None


def dues(spans: list[Span], rates: list[dict], first: str, last: str) -> list[tuple[str, str, Decimal]]:
    """(month, member, amount) of each month from `first` to `last` whose allowance is due: `due`
    of each month, with the rates ordered once for all of them (a district's report counts a
    year of months for each of its hundreds of branches)."""
    if not spans or not rates:  # due to nobody, or at no rate: nothing is due
        return []
    # The rate of a month is that of the latest `from_month` not after it; of two alike, the
    # first listed (as `rate_of_month`'s max).
    starts: dict[str, str] = {}
    for r in rates:
        starts.setdefault(r["from_month"], r["amount"])
    ordered = sorted(starts.items())
    amounts: dict[str, Decimal] = {}
    out: list[tuple[str, str, Decimal]] = []
    i, amount = 0, None
    for month, first_day, next_first in _calendar(first, last):
        while i < len(ordered) and ordered[i][0] <= month:
            amount = ordered[i][1]
            i += 1
        if amount is not None:
            rate = amounts.get(amount)
            if rate is None:
                rate = amounts[amount] = Decimal(amount)
            member_id = _holder(spans, first_day, next_first) if rate > 0 else None
            if member_id:
                out.append((month, member_id, rate))
    return out


@lru_cache(maxsize=256)
def _calendar(first: str, last: str) -> tuple[tuple[str, str, str], ...]:
    """(month, its first day, the next month's first day) from `first` to `last`: the same few
    periods for every branch of a report."""
    months = months_between(first, last)
    return tuple((mo, f"{mo}-01", f"{_next_month(mo)}-01") for mo in months)
