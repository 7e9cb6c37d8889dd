"""The branch-record alerts (issue 13) the simulated district should show on a day — `funds_overdrawn`,
`probation_overdue`, `request_overdue` — from the funds entries, the applicants' stages and the service
requests the simulator sent, by the rule text of docs/contract-additions.md, not from reporting's code.

`start` is RECORDS_START: no alert's `since` is earlier.
"""
from datetime import date, timedelta

from simulator.branch_records import applicants, balance, funds_plan
from simulator.days import add_months
from simulator.services import Requests
from simulator.world import World

DAY = timedelta(days=1)
REQUEST_ALERT_DAYS = 30  # a request more than this many days past its due date is an alert


def _alert(kind: str, subject_id: str, level: str, since: date) -> dict:
    return {"kind": kind, "subject_id": subject_id, "level": level, "months": None, "since": since.isoformat()}


def negative_since(entries: list[tuple[date, str, dict]], day: date) -> date | None:
    """The first day of the negative run the balance is in at the end of `day` (None when it is not
    negative); the balance changes only on the days of its entries, whatever their order within a day."""
    entries = [e for e in entries if e[0] <= day]
    since = None
    for on in sorted({on for on, _, _ in entries}, reverse=True):
        if balance(entries, on) >= 0:
            break
        since = on
    return since


def funds_overdrawn(world: World, day: date, start: date) -> list[dict]:
    """A branch whose balance at the end of the day is negative, since the first day of that run."""
    return [_alert("funds_overdrawn", b.org_id, "warning", max(since, start)) for b in world.branches
            if (since := negative_since(funds_plan(world, b), day)) is not None]


def probation_overdue(world: World, day: date, start: date) -> list[dict]:
    """An applicant still probationary after the year of probation (it ends on the anniversary), from the
    day after."""
    out = []
    for a in applicants(world):
        steps = [(on, stage) for on, _kind, stage in a["steps"] if on <= day]
        if not steps or steps[-1][1] != "probationary":
            continue
        ends = add_months(steps[-1][0], 12)
        if day > ends:
            out.append(_alert("probation_overdue", world.ids.of("ap", a["ref"]), "warning", max(ends + DAY, start)))
    return out


def request_overdue(requests: Requests, day: date, start: date) -> list[dict]:
    """A request open after its due date, from the day after it; an alert once more than 30 days past it.
    (The simulator never moves a due date.)"""
    out = []
    for rid, r in requests.opened.items():
        resolved = r["resolved_on"] is not None and r["resolved_on"] <= day
        if r["opened_on"] <= day and not resolved and day > r["due_on"]:
            level = "alert" if (day - r["due_on"]).days > REQUEST_ALERT_DAYS else "warning"
            out.append(_alert("request_overdue", rid, level, max(r["due_on"] + DAY, start)))
    return out


def records_alerts(world: World, requests: Requests, day: date, start: date) -> list[dict]:
    """Every branch-record alert of the district open on `day`."""
    return funds_overdrawn(world, day, start) + probation_overdue(world, day, start) + request_overdue(
        requests, day, start)
