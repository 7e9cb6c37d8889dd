"""What one member or one branch's meetings add to the precomputed figures of each branch.

The figures are stored as *deltas*: for a (series, branch, day) the change of each counter on
that day. A figure "as of day D" is the sum of the deltas of days ≤ D, so any `as_of` is
answered from a handful of small documents, never by scanning members. Series `*` holds the
period-independent counts (registered, away…); a period series (`2026-03`, `2026-Q1`, `2026`)
holds what counts in that period only.

A contributor's whole contribution is recomputed from its facts on every change and the
difference applied: the result depends only on the facts, never on the order they came in.
"""
from collections import defaultdict
from functools import lru_cache

from services.reporting.domain import days as d
from services.reporting.domain.days import Interval
from services.reporting.domain.facts import MemberFacts
from services.reporting.domain.volunteer import team_counter
from shared.contracts.codes import ORG_LIFE_KINDS
from shared.periods import parse_period
from shared.rules.org_life import DEFAULT_RULES, Requirement
from services.reporting.domain.requirements import branch_required
from services.reporting.settings import UNSET, records_start_or

DAY_SERIES = "*"
Key = tuple[str, str, str]  # (series, branch_id, day)
Contribution = dict[Key, dict[str, int]]


class _Builder:
    def __init__(self) -> None:
        self.out: Contribution = defaultdict(lambda: defaultdict(int))

    def point(self, series: str, branch: str, day: str, field: str, n: int = 1) -> None:
        if n:
            self.out[(series, branch, day)][field] += n

    def span(self, series: str, branch: str, interval: Interval, field: str, n: int = 1,
             until: str | None = None) -> None:
        """+n from the interval's start, −n at its end. Deltas after `until` (the last day the
        series is ever read at, e.g. a period's end) are left out: no query can see them."""
        s, e = interval
        if until is not None and s > until:
            return
        self.point(series, branch, s, field, n)
        if e is not None and (until is None or e <= until):
            self.point(series, branch, e, field, -n)

    def result(self) -> Contribution:
        return {k: {f: v for f, v in fields.items() if v} for k, fields in self.out.items()
                if any(fields.values())}


@lru_cache(maxsize=4096)
def _period_end(period: str) -> str:
    return parse_period(period).end.isoformat()


def member_contribution(m: MemberFacts, *, records_start=UNSET) -> Contribution:
    """`records_start` (YYYY-MM-DD or None): where the records begin; by default the setting
    RECORDS_START. No month before it is due or paid."""
    rs = records_start_or(records_start)
    b = _Builder()
    stints = m.stints()
    if not stints:
        return {}
    away, exempt = m.away_spans(), m.exempt_spans()
    # Day series: statuses on a day, and deaths on their day.
    for s in stints:
        span = [(s.start, s.end)]
        resident = d.subtract(span, away)
        for iv in span:
            b.span(DAY_SERIES, s.branch_id, iv, "reg")
        for iv in d.intersect(span, away):
            b.span(DAY_SERIES, s.branch_id, iv, "away")
        for iv in d.intersect(span, exempt):
            b.span(DAY_SERIES, s.branch_id, iv, "exempt")
        for iv in d.intersect(resident, exempt):
            b.span(DAY_SERIES, s.branch_id, iv, "exempt_res")
        for iv in d.intersect(span, m.overdue_spans(rs)):
            b.span(DAY_SERIES, s.branch_id, iv, "overdue")
        if m.died_on and s.end == m.died_on:
            b.point(DAY_SERIES, s.branch_id, m.died_on, "died")

    def from_day(series: str, start: str, field: str, n: int = 1, unless: tuple[list, ...] = ()) -> None:
        _from_day(b, stints, series, start, field, n, unless)

    _active(b, stints, first_present(m), away, exempt)
    # Dues: months before the registration month are not due in the period that holds it. Months
    # before the records begin are due of nobody (report.months_due leaves them out), so they are
    # not skipped twice here, and no payment makes them paid.
    reg_month = d.month_of(m.registered_on)
    first_due = d.month_of(d.later(m.registered_on, rs))
    for p in d.periods_of(m.registered_on)[1:]:
        skipped = sum(1 for mo in parse_period(p).months if mo < reg_month and (rs is None or mo >= rs[:7]))
        from_day(p, m.registered_on, "due_skip", skipped)
    for month, paid_on in m.month_paid_on(rs).items():
        if month < first_due:
            continue
        for p in d.periods_of_month(month):
            from_day(p, max(d.first_day(month), paid_on), "paid")
    for pay in m.payments.values():
        for p in d.periods_of(pay["paid_on"]):
            from_day(p, pay["paid_on"], "cents", pay["cents"])
    # Visits: the first visit of each period.
    first_visit: dict[str, str] = {}
    for day in sorted(m.visits.values()):
        for p in d.periods_of(day):
            first_visit.setdefault(p, day)
    for p, day in first_visit.items():
        from_day(p, day, "visited")
    # Hours and notices count for the branch the member was in on that day.
    for h in m.hours.values():
        s = m.stint_on(h["on"])
        if s:
            for p in d.periods_of(h["on"]):
                b.point(p, s.branch_id, h["on"], "hours", h["hundredths"])
                b.point(p, s.branch_id, h["on"], team_counter(h.get("team")), h["hundredths"])
    for notice_id, n in m.notices.items():
        if not requires_ack(notice_id, n):
            continue
        # A pair acknowledged with no dispatch recorded (before it, or none at all: the member
        # answered on another channel) was addressed no later than the acknowledgement.
        a = n.get("addressed_on") or n.get("acked_on")
        s = m.stint_on(a) if a else None
        if not s:
            continue
        for p in d.periods_of(a):
            b.point(p, s.branch_id, a, "sent")
            if n.get("acked_on"):  # whenever it arrives: after the period's end, on its last day
                b.point(p, s.branch_id, min(max(a, n["acked_on"]), _period_end(p)), "acked")
    return b.result()


def _from_day(b: _Builder, stints: list, series: str, start: str, field: str, n: int = 1,
              unless: tuple[list, ...] = ()) -> None:
    """Counts for members registered on the reading day, from `start` on, except on the days of the
    spans `unless` (away, exempt)."""
    until = _period_end(series)
    for s in stints:
        lo = max(s.start, start)  # the stint from `start` on
        if s.end is not None and s.end <= lo:
            continue
        span = [(lo, s.end)]
        for spans in unless:
            span = d.subtract(span, spans)
        for iv in span:
            b.span(series, s.branch_id, iv, field, n, until)


def first_present(m: MemberFacts) -> dict[str, str]:
    """Each period the member was present in → their first present day in it."""
    out: dict[str, str] = {}
    for day in m.present_days():
        for p in d.periods_of(day):
            out.setdefault(p, day)
    return out


def _active(b: _Builder, stints: list, first: dict[str, str], away: list, exempt: list) -> None:
    """Active: from the first present day of each period. The rates count only the active members
    who are not exempt on the reading day (and, for the resident rate, not away): an exempt member
    who attends is active, but in neither rate's numerator, so no rate exceeds 1 (contract)."""
    for p, day in first.items():
        _from_day(b, stints, p, day, "active")
        _from_day(b, stints, p, day, "active_ne", unless=(exempt,))
        _from_day(b, stints, p, day, "active_res_ne", unless=(away, exempt))


def attendance_difference(after: MemberFacts, first_before: dict[str, str]) -> Contribution:
    """`difference(member_contribution(before), member_contribution(after))` when the facts changed
    in their attendance alone: attendance weighs in a member's contribution only through each
    period's first present day (`first_present`, of the facts before: `first_before`), so only
    the periods whose first present day moved change, and by their `active` counts alone. At
    100,000 members nearly nine in ten of reporting's member refreshes were attendance (a meeting
    held), and working out a year of facts' contribution twice was a fifth of its CPU."""
    first_after = first_present(after)
    moved = sorted(p for p in first_before.keys() | first_after.keys() if first_before.get(p) != first_after.get(p))
    stints = after.stints()
    if not moved or not stints:
        return {}
    away, exempt = after.away_spans(), after.exempt_spans()
    old, new = _Builder(), _Builder()
    _active(old, stints, {p: first_before[p] for p in moved if p in first_before}, away, exempt)
    _active(new, stints, {p: first_after[p] for p in moved if p in first_after}, away, exempt)
    return difference(old.result(), new.result())


# Notices the notifications service sends by itself (meeting notices `activity:<id>`, reminders
# `reminder:<alert>…`): they ask for no acknowledgement and are not counted (contract, notices).
AUTOMATIC_NOTICE_PREFIXES = ("activity:", "reminder:")


def requires_ack(notice_id: str, fact: dict) -> bool:
    """Whether a (notice, member) pair counts in `notices`: the notice requires acknowledgement.
    The fact's `require_ack` (from NoticeCreated) decides when known; without it, every notice but
    the automatic ones counts."""
    if "require_ack" in fact:
        return bool(fact["require_ack"])
    return not notice_id.startswith(AUTOMATIC_NOTICE_PREFIXES)


def ledger_contribution(branch: str, meetings: list[dict], *, has_committee: bool, party_groups: int,
                        rules: tuple[Requirement, ...] = DEFAULT_RULES) -> Contribution:
    """A branch's held organisational-life meetings (not cancelled; alliance meetings count for
    every branch they name): `held_<kind>` on each meeting's day, and `met_<kind>` on the days
    of the first meetings up to the number required in each period, so that the compliance
    numerator Σ min(held, required) is itself a sum of deltas."""
    b = _Builder()
    days: dict[tuple[str, str], list[str]] = defaultdict(list)
    for mt in meetings:
        if mt["kind"] in ORG_LIFE_KINDS:
            for p in d.periods_of(mt["day"]):
                days[(p, mt["kind"])].append(mt["day"])
                b.point(p, branch, mt["day"], f"held_{mt['kind']}")
    for (p, kind), held in days.items():
        need = branch_required(parse_period(p), has_committee=has_committee, party_groups=party_groups, rules=rules)
        for day in sorted(held)[:need.get(kind, 0)]:
            b.point(p, branch, day, f"met_{kind}")
    return b.result()


def difference(old: Contribution, new: Contribution) -> Contribution:
    out: Contribution = {}
    for key in old.keys() | new.keys():
        o, n = old.get(key, {}), new.get(key, {})
        delta = {f: n.get(f, 0) - o.get(f, 0) for f in o.keys() | n.keys()}
        delta = {f: v for f, v in delta.items() if v}
        if delta:
            out[key] = delta
    return out
