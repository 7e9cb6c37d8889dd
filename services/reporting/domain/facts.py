"""Everything reporting knows about one member, gathered from events of every topic.

Facts are kept as sets keyed by their own ids (payments, visits, attendances…), so the same
facts give the same member whatever order the events came in, and a repeated event changes
nothing. Everything else (stints, statuses, figures, alerts) is derived from the facts.
"""
from dataclasses import dataclass, field

from services.reporting.domain import days as d
from services.reporting.domain.days import Interval
from shared.contracts.codes import ORG_LIFE_KINDS

# Attendance in these kinds makes a member "active" (contract: participation).
PARTICIPATION_KINDS = frozenset(ORG_LIFE_KINDS) | {"study"}
VISIT_LIMIT_DAYS, VISIT_LIMIT_FRAIL_DAYS = 60, 30  # domain.md: one-to-one specialists
# An attendance is stored with what differs from the usual one: present, in person, not cancelled.
# At the year's end three in four of a member's document's fields were attendance, and the
# database's cost of a write grows with the document's fields (docs/secantusdb.md, 5).
USUAL_ATTENDANCE = {"status": "present", "mode": "in_person", "cancelled": False}


def attendance_entry(held_on: str, kind: str, status: str, mode: str, cancelled: bool) -> dict:
    """A member's attendance of one activity, as kept in their facts."""
    entry = {"held_on": held_on, "kind": kind}
    for name, value in (("status", status), ("mode", mode), ("cancelled", cancelled)):
        if value != USUAL_ATTENDANCE[name]:
            entry[name] = value
    return entry


def attended(a: dict, name: str):
    """An attendance's `status`, `mode` or `cancelled`, the usual one when it is not kept."""
    return a.get(name) or USUAL_ATTENDANCE[name]


def is_present(a: dict) -> bool:
    """Present at an activity that took place, in organisational life or study. `attended` written
    out: this runs for every attendance of every member a batch refreshes (10.6 µs against 6.2 for
    a member's 60 attendances)."""
    return ((a.get("status") or USUAL_ATTENDANCE["status"]) == "present" and not a.get("cancelled")
            and a["kind"] in PARTICIPATION_KINDS)


@dataclass
class Stint:
    """A span during which the member belonged to a branch: [start, end)."""

    branch_id: str
    start: str
    end: str | None = None


@dataclass
class MemberFacts:
    member_id: str
    name: str | None = None
    branch_id: str | None = None  # of the registration
    registered_on: str | None = None
    lives_alone: bool = False
    health: str = "good"
    specialist_id: str | None = None
    died_on: str | None = None
    transfers: list[dict] = field(default_factory=list)  # {on, from_branch_id, to_branch_id}
    away: list[dict] = field(default_factory=list)  # {from, until, location}
    returns: list[str] = field(default_factory=list)
    exempt: list[dict] = field(default_factory=list)  # {from, until}
    attendance: dict[str, dict] = field(default_factory=dict)  # activity_id → attendance_entry(…)
    payments: dict[str, dict] = field(default_factory=dict)  # payment_id → {months, cents, paid_on}
    hours: dict[str, dict] = field(default_factory=dict)  # entry_id → {on, hundredths}
    visits: dict[str, str] = field(default_factory=dict)  # visit_id → on
    notices: dict[str, dict] = field(default_factory=dict)  # notice_id → {addressed_on, acked_on}
    evaluations: dict[str, str] = field(default_factory=dict)  # year → result
    # The opening balance (RegisterMember, YYYY-MM): months up to it are paid (contract).
    dues_paid_through: str | None = None

    # ---- derived --------------------------------------------------------------------------

    def stints(self) -> list[Stint]:
        """Branch membership over time: the registration, then transfers in date order; a
        transfer out of the district or death ends it."""
        if self.registered_on is None or self.branch_id is None:
            return []
        out: list[Stint] = []
        cur: Stint | None = Stint(self.branch_id, self.registered_on)
        for t in sorted(self.transfers, key=lambda t: (t["on"], t.get("to_branch_id") or "")):
            if cur is None or t["on"] < cur.start:
                continue
            cur.end = t["on"]
            out.append(cur)
            cur = Stint(t["to_branch_id"], t["on"]) if t.get("to_branch_id") else None
        if cur:
            out.append(cur)
        if self.died_on:
            out = [Stint(s.branch_id, s.start, d.earlier(s.end, self.died_on)) for s in out
                   if s.start < self.died_on]
        return [s for s in out if s.end is None or s.start < s.end]

    def stint_on(self, day: str) -> Stint | None:
        return next((s for s in self.stints() if s.start <= day and (s.end is None or day < s.end)), None)

    def membership(self) -> list[Interval]:
        return d.union([(s.start, s.end) for s in self.stints()])

    def away_spans(self) -> list[Interval]:
        """Away from `from` to `until` (inclusive) or until the member returned."""
        spans = []
        for a in self.away:
            end = d.add_days(a["until"], 1) if a.get("until") else None
            back = [r for r in self.returns if r > a["from"]]
            if back:
                end = d.earlier(end, min(back))
            spans.append((a["from"], end))
        return d.union(spans)

    def exempt_spans(self) -> list[Interval]:
        return d.union([(x["from"], d.add_days(x["until"], 1) if x.get("until") else None) for x in self.exempt])

    def visit_limit(self) -> int:
        frail = self.lives_alone or self.health in ("poor", "bedridden")
        return VISIT_LIMIT_FRAIL_DAYS if frail else VISIT_LIMIT_DAYS

    def overdue_spans(self, records_start: str | None = None) -> list[Interval]:
        """Days on which the last visit (or, before any, the registration, or the day the records
        begin if later: what came before is unknown) is older than the limit: from limit+1 days
        after each visit until the next one."""
        if self.registered_on is None:
            return []
        points = sorted({d.later(self.registered_on, records_start), *self.visits.values()})
        spans = []
        for i, p in enumerate(points):
            nxt = points[i + 1] if i + 1 < len(points) else None
            spans.append((d.add_days(p, self.visit_limit() + 1), nxt))
        return d.intersect(d.union(spans), self.membership())

    def present_days(self) -> list[str]:
        """Days of present attendance (any mode) in organisational life or study, not cancelled."""
        return sorted(a["held_on"] for a in self.attendance.values() if is_present(a))

    def month_paid_on(self, records_start: str | None = None) -> dict[str, str]:
        """Each month covered by a payment → the earliest day a payment covering it was made; the
        months of the opening balance (`dues_paid_through`) from the registration month (or the
        month the records begin) on, as paid on the registration day."""
        out: dict[str, str] = {}
        if self.dues_paid_through and self.registered_on:
            month = d.month_of(d.later(self.registered_on, records_start))
            while month <= self.dues_paid_through:
                out[month] = self.registered_on
                month = d.next_month(month)
        for p in self.payments.values():
            for m in p["months"]:
                out[m] = min(out.get(m, p["paid_on"]), p["paid_on"])
        return out
