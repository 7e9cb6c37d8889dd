"""A branch's funds as reporting sees them (issue 13, item 3): 返缴党费 and other funding received,
spending per activity, the balance, and the `funds_overdrawn` alert. Pure.

Entries are {entry_id, kind: in|out, fen, on, source, activity_id}; amounts in fen (integers).
Within a day the order of entries is unknown, so the balance is judged at the end of each day:
a branch is overdrawn on a day when what it spent up to that day exceeds what it received.
`funds_overdrawn` (subject: the branch, level `warning`) is open while the balance is negative;
`since` is the first day of the current negative run, `details` the balance then.
"""
from collections import defaultdict

from services.reporting.domain import days as d
from services.reporting.domain.alerts import Alert
from shared.periods import Period

SOURCES = ("dues_returned", "higher_level", "community", "donation", "other")
COUNTS = ("received", *SOURCES, "spent", "spent_on_activities", "spent_otherwise", "opening", "balance")


def yuan(fen: int) -> str:
    """Fen as yuan with two places, in plain notation ("-12.50", never "1.2E+3")."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _signed(e: dict) -> int:
    return e["fen"] if e["kind"] == "in" else -e["fen"]


def balance(entries: list[dict], day: str) -> int:
    return sum(_signed(e) for e in entries if e["on"] <= day)


def figures(entries: list[dict], period: Period, day: str) -> dict:
    """Fen: received (and by source) and spent within the period up to `day`, the opening balance
    (before the period) and the balance on `day`; `activities` {activity_id: fen spent}."""
    start, end = period.start.isoformat(), min(period.end.isoformat(), day)
    out = dict.fromkeys(COUNTS, 0)
    activities: dict[str, int] = defaultdict(int)
    for e in entries:
        if e["on"] < start:
            out["opening"] += _signed(e)
        elif e["on"] <= end:
            if e["kind"] == "in":
                out["received"] += e["fen"]
                out[e.get("source") or "other"] += e["fen"]
            else:
                out["spent"] += e["fen"]
                if e.get("activity_id"):
                    out["spent_on_activities"] += e["fen"]
                    activities[e["activity_id"]] += e["fen"]
                else:
                    out["spent_otherwise"] += e["fen"]
    out["balance"] = balance(entries, end)
    return out | {"activities": dict(activities)}


def add(total: dict, f: dict) -> dict:
    acts = dict(total.get("activities", {}))
    for k, v in f.get("activities", {}).items():
        acts[k] = acts.get(k, 0) + v
    return {**{k: total.get(k, 0) + f[k] for k in COUNTS}, "activities": acts}


def overdrawn(entries: list[dict], branch_id: str, day: str, *, records_start: str | None = None) -> Alert | None:
    """`funds_overdrawn` as of `day`, or None when the balance is not negative. Entries dated before
    the records began (RECORDS_START) make the opening balance, but no alert is dated before it."""
    if records_start and day < records_start:
        return None
    by_day: dict[str, int] = defaultdict(int)
    for e in entries:
        if e["on"] <= day:
            by_day[e["on"]] += _signed(e)
    running, since = 0, None
    for on in sorted(by_day):
        running += by_day[on]
        if running < 0 and since is None:
            since = on
        elif running >= 0:
            since = None
    if running >= 0 or since is None:
        return None
    return Alert(kind="funds_overdrawn", level="warning", subject_id=branch_id, org_id=branch_id,
                 since=d.later(since, records_start), details={"balance": yuan(running)})
