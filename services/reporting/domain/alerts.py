"""Alerts of the contract, derived from facts as of a day (never from a batch job's state).

An alert's id is (kind, subject, the date its condition began): a condition that ends and
begins again later is a new alert, and a growing run keeps its id.
"""
from dataclasses import dataclass, field

from services.reporting.domain import days as d
from services.reporting.domain.facts import MemberFacts
from shared.periods import parse_period
from shared.rules.org_life import DEFAULT_RULES, Requirement
from services.reporting.domain.requirements import branch_required
from services.reporting.settings import UNSET, records_start_or

WARNING_MONTHS, ALERT_MONTHS = 3, 6  # contract; Party Constitution art. 9 is six months
TRANSFER_AFTER_MONTHS = 6  # domain.md: away at one place more than six months


@dataclass
class Alert:
    kind: str
    level: str
    subject_id: str
    org_id: str
    since: str
    months: int | None = None
    details: dict = field(default_factory=dict)

    @property
    def alert_id(self) -> str:
        return f"{self.kind}:{self.subject_id}:{self.since}"

    def to_dict(self) -> dict:
        # Field by field: `dataclasses.asdict` took 16 µs an alert, 4 % of reporting's CPU at
        # 100,000 members (every refresh of a member turns its alerts into dicts).
        return {"alert_id": self.alert_id, "kind": self.kind, "level": self.level, "subject_id": self.subject_id,
                "org_id": self.org_id, "since": self.since, "months": self.months, "details": _copied(self.details)}


def _copied(v):
    """A copy of nested dicts and lists (as `asdict` made): the caller may change what it gets."""
    if isinstance(v, dict):
        return {k: _copied(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_copied(x) for x in v]
    return v


def _run_level(months: int) -> str | None:
    return "alert" if months >= ALERT_MONTHS else "warning" if months >= WARNING_MONTHS else None


def _run(m: MemberFacts, day: str, broken_by, skipped_by=lambda _m: False,
         records_start: str | None = None) -> tuple[int, str | None]:
    """Months in a row ending with the month of `day`, not before the registration month nor the
    month the records begin (what came before is unknown, not absent: contract). A
    month that breaks the run breaks it even if it would be skipped (contract: a month with a
    `present` attendance ends a no_participation run whether or not the member is exempt then);
    a skipped month is neither counted nor breaks it."""
    count, since, month = 0, None, d.month_of(day)
    first = d.month_of(d.later(m.registered_on, records_start))
    while month >= first:
        if broken_by(month):
            break
        if not skipped_by(month):
            count, since = count + 1, month
        month = d.prev_month(month)
    return count, since


# Raise it with any change that makes member_alerts give other alerts for the same facts and day:
# the alerts reporting stored under the old version are then worked out afresh by the alert list,
# and the daily pass evaluates every member again at once (adapters/documents.alerts_key).
MEMBER_RULES_VERSION = 1
# The facts `member_alerts` weighs (a query reads these alone: not a year of notices and hours)
MEMBER_ALERT_FACTS = ("branch_id", "registered_on", "died_on", "transfers", "lives_alone", "health", "away",
                      "returns", "exempt", "attendance", "payments", "dues_paid_through", "visits")


def member_alerts(m: MemberFacts, day: str, *, records_start=UNSET) -> list[Alert]:
    """`records_start` (YYYY-MM-DD or None; default: the setting RECORDS_START): no month before
    it counts in a run, and no alert's `since` is earlier."""
    rs = records_start_or(records_start)
    stint = m.stint_on(day)
    if stint is None or (rs and day < rs):
        return []
    out: list[Alert] = []
    covered = {mo for mo, paid_on in m.month_paid_on(rs).items() if paid_on <= day}
    n, since = _run(m, day, lambda mo: mo in covered, records_start=rs)
    if _run_level(n):
        out.append(Alert("dues_arrears", _run_level(n), m.member_id, stint.branch_id, since, n))
    present = {d.month_of(x) for x in m.present_days() if x <= day}
    exempt = m.exempt_spans()
    n, since = _run(m, day, lambda mo: mo in present, lambda mo: d.overlaps_month(exempt, mo), records_start=rs)
    if _run_level(n):
        out.append(Alert("no_participation", _run_level(n), m.member_id, stint.branch_id, since, n))
    overdue = next((s for s, e in m.overdue_spans(rs) if s <= day and (e is None or day < e)), None)
    if overdue:
        last = max((v for v in m.visits.values() if v <= day), default=None)
        out.append(Alert("not_visited", "warning", m.member_id, stint.branch_id, overdue,
                         details={"last_visit": last, "limit_days": m.visit_limit()}))
    away = next(((s, e) for s, e in m.away_spans() if s <= day and (e is None or day < e)), None)
    if away and day > d.add_months(away[0], TRANSFER_AFTER_MONTHS):
        where = next((a["location"] for a in m.away if a["from"] == away[0]), None)
        out.append(Alert("transfer_suggested", "info", m.member_id, stint.branch_id, d.later(away[0], rs),
                         details={"location": where}))
    return out


def last_complete_quarter(day: str) -> str:
    """The latest calendar quarter that has ended by `day` (its last day included)."""
    y, q = int(day[:4]), (int(day[5:7]) - 1) // 3 + 1
    p = parse_period(f"{y}-Q{q}")
    if p.end.isoformat() == day:
        return p.text
    return f"{y - 1}-Q4" if q == 1 else f"{y}-Q{q - 1}"


@dataclass
class BranchState:
    branch_id: str
    established_on: str
    has_committee: bool = False
    party_groups: int = 0
    secretary_id: str | None = None
    registered: int = 0  # on the day
    small_since: str | None = None  # the day it last dropped below 3 (or its first day)
    held_last_quarter: dict[str, int] = field(default_factory=dict)


def branch_alerts(b: BranchState, day: str, rules: tuple[Requirement, ...] = DEFAULT_RULES, *,
                  records_start=UNSET) -> list[Alert]:
    """`records_start` (default: the setting RECORDS_START): no `since` before it, and no
    quarter that began before it is judged (its meetings before the records are unknown)."""
    rs = records_start_or(records_start)
    if b.established_on > day or (rs and day < rs):
        return []
    out = []
    if b.registered < 3:
        out.append(Alert("branch_too_small", "alert", b.branch_id, b.branch_id,
                         d.later(b.small_since or b.established_on, rs), details={"registered": b.registered}))
    if not b.secretary_id:
        out.append(Alert("no_secretary", "warning", b.branch_id, b.branch_id, d.later(b.established_on, rs)))
    quarter = last_complete_quarter(day)
    q = parse_period(quarter)
    if b.established_on <= q.end.isoformat() and not (rs and q.start.isoformat() < rs):
        need = branch_required(q, has_committee=b.has_committee, party_groups=b.party_groups, rules=rules)
        missing = sorted(k for k, n in need.items() if n and b.held_last_quarter.get(k, 0) < n)
        if missing:
            out.append(Alert("missed_meetings", "warning", b.branch_id, b.branch_id, quarter,
                             details={"kinds": missing,
                                      "held": {k: b.held_last_quarter.get(k, 0) for k in missing},
                                      "required": {k: need[k] for k in missing}}))
    return out
