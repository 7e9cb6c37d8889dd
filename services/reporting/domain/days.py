"""Calendar arithmetic on ISO date strings (the form every projection stores).

Half-open intervals `(start, end)` of days: `start` inclusive, `end` exclusive, `None` = open.
ISO strings compare in calendar order, so most checks need no parsing.
"""
from datetime import date, timedelta
from functools import lru_cache

Interval = tuple[str, str | None]


def add_days(day: str, n: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=n)).isoformat()


def month_of(day: str) -> str:
    return day[:7]


def first_day(month: str) -> str:
    return f"{month}-01"


@lru_cache(maxsize=4096)  # a member's alerts walk back month by month at every refresh
def next_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y + 1:04d}-01" if m == 12 else f"{y:04d}-{m + 1:02d}"


@lru_cache(maxsize=4096)
def prev_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y - 1:04d}-12" if m == 1 else f"{y:04d}-{m - 1:02d}"


def add_months(day: str, n: int) -> str:
    d = date.fromisoformat(day)
    y, m = divmod(d.month - 1 + n, 12)
    y, m = d.year + y, m + 1
    for dd in (d.day, 30, 29, 28):  # clamp to the month's length
        try:
            return date(y, m, dd).isoformat()
        except ValueError:
            continue
    raise AssertionError("unreachable")


def periods_of(day: str) -> list[str]:
    """The month, quarter and year a day belongs to: the report periods it counts in."""
    y, m = day[:4], int(day[5:7])
    return [day[:7], f"{y}-Q{(m - 1) // 3 + 1}", y]


def periods_of_month(month: str) -> list[str]:
    return periods_of(first_day(month))


def later(a: str, b: str | None) -> str:
    return a if b is None or a >= b else b


def earlier(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def union(intervals: list[Interval]) -> list[Interval]:
    """Merge overlapping or touching intervals into a sorted disjoint list."""
    out: list[list] = []
    for s, e in sorted(intervals, key=lambda i: i[0]):
        if e is not None and e <= s:
            continue
        if out and (out[-1][1] is None or s <= out[-1][1]):
            out[-1][1] = None if out[-1][1] is None or e is None else max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out = []
    for s1, e1 in a:
        for s2, e2 in b:
            s, e = max(s1, s2), earlier(e1, e2)
            if e is None or s < e:
                out.append((s, e))
    return union(out)


def subtract(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out = list(a)
    for s2, e2 in b:
        nxt = []
        for s1, e1 in out:
            if e2 is not None and e2 <= s1 or e1 is not None and e1 <= s2:
                nxt.append((s1, e1))
                continue
            if s1 < s2:
                nxt.append((s1, s2))
            if e2 is not None and (e1 is None or e2 < e1):
                nxt.append((e2, e1))
        out = nxt
    return union(out)


def contains(intervals: list[Interval], day: str) -> bool:
    return any(s <= day and (e is None or day < e) for s, e in intervals)


def overlaps_month(intervals: list[Interval], month: str) -> bool:
    """Whether `intersect(intervals, [the month])` is not empty, without building it (asked for
    every month of a member's run at every refresh)."""
    start, end = first_day(month), first_day(next_month(month))
    return any(max(s, start) < (end if e is None else min(e, end)) for s, e in intervals)
