"""The alerts the simulator's district should show on a day, from what it sent and the contract's rules.

Written from the contract (`GET /api/v1/alerts`) and domain.md, not from reporting's code, so a test
comparing the two finds a mistake in either. `records_start` is where the district's records begin
(RECORDS_START): no month before it counts in a run, no `since` is earlier. Issue 13's kinds are in
simulator/leadership_alerts.py and simulator/records_alerts.py.
"""
from datetime import date, timedelta

from shared.periods import Period, parse_period
from shared.rules.org_life import required
from simulator.days import add_months
from simulator.leadership_alerts import leadership_alerts
from simulator.records_alerts import records_alerts
from simulator.tally import Tally
from simulator.world import Branch, Member, World

WARNING_MONTHS, ALERT_MONTHS = 3, 6
VISIT_DAYS, VISIT_DAYS_FRAIL = 60, 30
TRANSFER_AFTER_MONTHS = 6


def _month(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def _months_back(last: date, first: date) -> list[str]:
    """The months from `last`'s back to `first`'s, latest first."""
    out, y, m = [], last.year, last.month
    while (y, m) >= (first.year, first.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out


def _run(months: list[str], broken, skipped=lambda _mo: False) -> tuple[int, str | None]:
    """Months in a row, latest first, until one breaks the run; a skipped month neither counts nor breaks it."""
    count, since = 0, None
    for mo in months:
        if broken(mo):
            break
        if not skipped(mo):
            count, since = count + 1, mo
    return count, since


def _level(months: int) -> str | None:
    return "alert" if months >= ALERT_MONTHS else "warning" if months >= WARNING_MONTHS else None


def _member(m: Member, t: Tally, day: date, start: date) -> list[dict]:
    out = []
    months = _months_back(day, max(m.registered_on, start))
    paid = {mo for mo in t.paid_months.get(m.member_id, ())}
    n, since = _run(months, lambda mo: mo in paid)
    if _level(n):
        out.append({"kind": "dues_arrears", "subject_id": m.member_id, "level": _level(n), "months": n, "since": since})
    present = {_month(d) for d in t.present.get(m.member_id, ()) if d <= day}
    exempt = lambda mo: m.exempt_from is not None and _month(m.exempt_from) <= mo  # noqa: E731
    n, since = _run(months, lambda mo: mo in present, exempt)
    if _level(n):
        out.append({"kind": "no_participation", "subject_id": m.member_id, "level": _level(n), "months": n,
                    "since": since})
    visits = [v for v in t.visits.get(m.member_id, ()) if v <= day]
    limit = VISIT_DAYS_FRAIL if m.lives_alone or m.health in ("poor", "bedridden") else VISIT_DAYS
    overdue = max([max(m.registered_on, start), *visits]) + timedelta(days=limit + 1)
    if overdue <= day:
        out.append({"kind": "not_visited", "subject_id": m.member_id, "level": "warning", "months": None,
                    "since": overdue.isoformat()})
    for a in m.away:  # away from `start` to `until` (inclusive), or until the return
        end = min(x for x in (a.until + timedelta(days=1) if a.until else None, a.returned) if x) \
            if a.until or a.returned else None
        if a.start <= day and (end is None or day < end) and day > add_months(a.start, TRANSFER_AFTER_MONTHS):
            out.append({"kind": "transfer_suggested", "subject_id": m.member_id, "level": "info", "months": None,
                        "since": max(a.start, start).isoformat()})
    return out


def _last_complete_quarter(day: date) -> Period:
    q = (day.month - 1) // 3 + 1
    p = parse_period(f"{day.year}-Q{q}")
    if p.end == day:
        return p
    return parse_period(f"{day.year - 1}-Q4" if q == 1 else f"{day.year}-Q{q - 1}")


def _branch(w: World, b: Branch, t: Tally, day: date, start: date) -> list[dict]:
    out = []
    members = [w.member(mid) for mid in b.member_ids]
    size = lambda d: sum(m.registered(d) for m in members)  # noqa: E731
    if size(day) < 3:
        since = day
        while since > start and size(since - timedelta(days=1)) < 3:
            since -= timedelta(days=1)
        out.append({"kind": "branch_too_small", "subject_id": b.org_id, "level": "alert", "months": None,
                    "since": since.isoformat()})
    if b.secretary_id is None or not w.member(b.secretary_id).registered(day):
        out.append({"kind": "no_secretary", "subject_id": b.org_id, "level": "warning", "months": None,
                    "since": start.isoformat()})  # the branches were established long before the records began
    quarter = _last_complete_quarter(day)
    if quarter.start >= start:
        need = required(quarter, has_committee=b.has_committee, party_groups=b.party_groups)
        held = {k: sum(1 for kind, d in t.held.get(b.org_id, ()) if kind == k and quarter.start <= d <= quarter.end)
                for k in need}
        if any(held[k] < n for k, n in need.items()):
            out.append({"kind": "missed_meetings", "subject_id": b.org_id, "level": "warning", "months": None,
                        "since": quarter.text})
    return out


def intended_alerts(world: World, tally: Tally, day: date, records_start: date) -> list[dict]:
    """Every alert of the district open on `day`: {kind, subject_id, level, months, since}."""
    out = [a for m in world.members if m.registered(day) for a in _member(m, tally, day, records_start)]
    out += [a for b in world.branches for a in _branch(world, b, tally, day, records_start)]
    out += leadership_alerts(world, day, records_start) + records_alerts(world, tally.requests, day, records_start)
    return sorted(out, key=lambda a: (a["kind"], a["subject_id"]))
