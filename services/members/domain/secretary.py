"""The branch secretary's yearly assessment (书记考核) and monthly allowance (每月补助). Pure.

Both are kept on the branch: `assessments` [{year, member_id, result, on, current, comment}] and
the allowance ledger, `allowance_rates` [{from_month, amount}] and `allowance_payments`
[{payment_id, member_id, months: [{month, amount}], amount, paid_on}]. Who a month is due to, and
how much, is `shared.rules.allowance` (reporting counts with the same rule).
"""
from decimal import Decimal

from services.members.domain import committee
from services.members.domain.organization import Organization
from shared.errors import Rejected, conflict, invalid, not_allowed
from shared.rules import allowance

MAX_MONTHS = 12  # a payment covers at most a year


def secretary_spans(branch: Organization) -> list[allowance.Span]:
    """Who held the secretary's post when, as the allowance rule reads it."""
    spans = [(h["member_id"], h["from"], h["until"]) for h in branch.committee_history if h["post"] == committee.SECRETARY]
    if not spans and branch.secretary_id:  # appointed before the post's history was kept
        spans = [(branch.secretary_id, None, None)]
    return spans


def was_secretary_in(branch: Organization, member_id: str, year: int) -> bool:
    first, last = f"{year:04d}-01-01", f"{year:04d}-12-31"
    return any(m == member_id and (start is None or start <= last) and (until is None or first < until)
               for m, start, until in secretary_spans(branch))


# ---- 书记考核 ------------------------------------------------------------------------------------

def assess(branch: Organization, *, member_id: str, year: int, result: str, on: str,
           comment: str | None) -> str | None:
    """One current result per (year, secretary); a second replaces the first, kept as history.
    Returns the result replaced."""
    if year > int(on[:4]):
        raise invalid(f"{year} has not begun", "data.year")
    if not was_secretary_in(branch, member_id, year):
        raise not_allowed(f"member {member_id} was not the secretary of branch {branch.org_id} in {year}",
                          "data.member_id")
    replaced = None
    for a in branch.assessments:
        if a["year"] == year and a["member_id"] == member_id and a["current"]:
            a["current"], replaced = False, a["result"]
    branch.assessments.append({"year": year, "member_id": member_id, "result": result, "on": on, "current": True,
                               "comment": comment})
    return replaced


# ---- 每月补助 ------------------------------------------------------------------------------------

def paid_months(branch: Organization) -> dict[str, str]:
    """month → the payment that paid it."""
    return {x["month"]: p["payment_id"] for p in branch.allowance_payments for x in p["months"]}


def set_rate(branch: Organization, *, from_month: str, amount: Decimal) -> Decimal | None:
    """The monthly allowance from `from_month` on. Returns the rate it replaces in that month."""
    if amount < 0:
        raise invalid("an allowance cannot be negative", "data.monthly_amount")
    paid_later = sorted(m for m in paid_months(branch) if m >= from_month)
    previous = allowance.rate_of_month(branch.allowance_rates, from_month)
    if paid_later and (previous or Decimal(0)) != amount:
        raise conflict(f"the allowance of {paid_later[0]} is already paid at the rate before", "data.from_month")
    branch.allowance_rates = sorted([r for r in branch.allowance_rates if r["from_month"] != from_month]
                                    + [{"from_month": from_month, "amount": f"{amount:.2f}"}],
                                    key=lambda r: r["from_month"])
    return previous


def pay(branch: Organization, *, payment_id: str, member_id: str, from_month: str, to_month: str,
        amount: Decimal, paid_on: str) -> list[dict]:
    """Record a payment of the allowance; returns its months [{month, amount}]. Every month must
    have begun by `paid_on`, be due to the member at a rate set, and not be paid already; the
    amount must be the sum due."""
    if to_month < from_month:
        raise invalid(f"to_month {to_month} is before from_month {from_month}", "data.to_month")
    months = allowance.months_between(from_month, to_month)
    if len(months) > MAX_MONTHS:
        raise invalid(f"a payment covers at most {MAX_MONTHS} months", "data.to_month")
    if to_month > paid_on[:7]:
        raise invalid(f"{to_month} has not begun on {paid_on}", "data.to_month")
    paid = paid_months(branch)
    spans = secretary_spans(branch)
    lines = []
    for month in months:
        if month in paid:
            raise conflict(f"the allowance of {month} was already paid ({paid[month]})", "data.from_month")
        if allowance.rate_of_month(branch.allowance_rates, month) is None:
            raise not_allowed(f"branch {branch.org_id} has no allowance set for {month}", "data.from_month")
        found = allowance.due(spans, branch.allowance_rates, month)
        if found is None or found[0] != member_id:
            holder = f"due to {found[0]}" if found else "due to nobody: the secretary's post was empty"
            raise not_allowed(f"the allowance of {month} is {holder}, not to {member_id}", "data.member_id")
        lines.append({"month": month, "amount": f"{found[1]:.2f}"})
    expected = sum((Decimal(x["amount"]) for x in lines), Decimal("0.00"))
    if amount != expected:
        raise Rejected("invalid", f"the allowance of {from_month}–{to_month} is {expected:.2f}", "data.amount")
    branch.allowance_payments.append({"payment_id": payment_id, "member_id": member_id, "months": lines,
                                      "amount": f"{amount:.2f}", "paid_on": paid_on})
    return lines


def ledger(branch: Organization, *, year: int, as_of: str) -> list[dict]:
    """Each month of `year` up to `as_of`'s month: who it is due to, how much, and whether it is paid."""
    last = min(f"{year:04d}-12", as_of[:7])
    paid = paid_months(branch)
    spans = secretary_spans(branch)
    out = []
    for month in allowance.months_between(f"{year:04d}-01", last) if f"{year:04d}-01" <= last else []:
        found = allowance.due(spans, branch.allowance_rates, month)
        out.append({"month": month, "member_id": found[0] if found else None,
                    "due": f"{found[1]:.2f}" if found else "0.00", "paid": month in paid,
                    "payment_id": paid.get(month)})
    return out
