"""Party dues of retired members (党费, rules of 2008).

The monthly due is 0.5% of the monthly pension when the pension is at most 5,000 yuan and 1%
when above, on the whole pension (a bracket, not a marginal rate), rounded to the cent half up.
It is fixed for a whole year from the pension as of January of that year, so a member's pension
history is kept: a raise in May changes next year's dues, not this year's.
"""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from shared.errors import invalid

THRESHOLD = Decimal("5000")
LOW_RATE = Decimal("0.005")
HIGH_RATE = Decimal("0.01")
MAX_MONTHS_PER_PAYMENT = 6


def monthly_dues(pension: Decimal) -> Decimal:
    rate = LOW_RATE if pension <= THRESHOLD else HIGH_RATE
    return (pension * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def pension_for_year(pensions: list[dict], year: int) -> Decimal | None:
    """The pension in effect on 1 January of `year`; for a member whose first known pension
    starts later that year (registered mid-year), that first pension."""
    if not pensions:
        return None
    ordered = sorted(pensions, key=lambda p: p["from"])
    january = f"{year:04d}-01-01"
    before = [p for p in ordered if p["from"] <= january]
    if before:
        return Decimal(before[-1]["amount"])
    same_year = [p for p in ordered if p["from"][:4] == f"{year:04d}"]
    return Decimal(same_year[0]["amount"]) if same_year else Decimal(ordered[0]["amount"])


def dues_for_year(pensions: list[dict], year: int) -> Decimal | None:
    pension = pension_for_year(pensions, year)
    return monthly_dues(pension) if pension is not None else None


def months_between(from_month: str, to_month: str) -> list[str]:
    """Every month from `from_month` to `to_month`, both included (YYYY-MM)."""
    y, m = int(from_month[:4]), int(from_month[5:])
    end = (int(to_month[:4]), int(to_month[5:]))
    out = []
    while (y, m) <= end:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@dataclass(frozen=True)
class Assessment:
    """How a payment compares with what its months were due."""

    months: list[str]
    already_paid: list[str]  # covered by an earlier payment: a double payment, reported
    expected_amount: Decimal  # the dues of the months not paid before
    comparison: str  # under · exact · over


def assess_payment(pensions: list[dict], paid_months: list[str], *, from_month: str, to_month: str,
                   amount: Decimal) -> Assessment:
    if to_month < from_month:
        raise invalid(f"to_month {to_month} is before from_month {from_month}", "data.to_month")
    months = months_between(from_month, to_month)
    if len(months) > MAX_MONTHS_PER_PAYMENT:
        raise invalid(f"one payment covers at most {MAX_MONTHS_PER_PAYMENT} months, not {len(months)}",
                      "data.to_month")
    if amount <= 0:
        raise invalid("the amount paid must be more than zero", "data.amount")
    paid = set(paid_months)
    already = [m for m in months if m in paid]
    expected = sum((dues_for_year(pensions, int(m[:4])) for m in months if m not in paid), Decimal("0.00"))
    comparison = "exact" if amount == expected else "under" if amount < expected else "over"
    return Assessment(months, already, expected, comparison)
