"""Where one member stands on a day, as a branch secretary reads it: dues, last attendance, last visit."""
from services.reporting.domain import days as d
from services.reporting.domain.facts import MemberFacts


def status(m: MemberFacts, day: str) -> str:
    """resident · away · exempt on the day; transferred or deceased when no longer in a branch,
    unregistered before the registration."""
    if m.stint_on(day) is None:
        if m.died_on and m.died_on <= day:
            return "deceased"
        left = any(t.get("to_branch_id") is None and t["on"] <= day for t in m.transfers)
        return "transferred" if left else "unregistered"
    if d.contains(m.away_spans(), day):
        return "away"
    return "exempt" if d.contains(m.exempt_spans(), day) else "resident"


def dues_standing(m: MemberFacts, day: str, records_start: str | None) -> dict:
    """`paid_through`: the last month up to which every due month is paid (null when the first
    is not); `unpaid`: due months up to the month of `day` that no payment made by `day` covers
    (not before the registration nor the month the records begin: contract), `unpaid_since` the
    first of them."""
    if m.registered_on is None:
        return {"paid_through": None, "unpaid": 0, "unpaid_since": None}
    paid = {mo for mo, on in m.month_paid_on(records_start).items() if on <= day}
    first = d.month_of(d.later(m.registered_on, records_start))
    month, through = first, None
    while month in paid:
        through, month = month, d.next_month(month)
    unpaid, month, last = [], first, d.month_of(day)
    while month <= last:
        if month not in paid:
            unpaid.append(month)
        month = d.next_month(month)
    return {"paid_through": through, "unpaid": len(unpaid), "unpaid_since": unpaid[0] if unpaid else None}


def last_present(m: MemberFacts, day: str) -> str | None:
    return max((x for x in m.present_days() if x <= day), default=None)


def last_visit(m: MemberFacts, day: str) -> str | None:
    return max((v for v in m.visits.values() if v <= day), default=None)
