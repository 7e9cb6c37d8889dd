"""Party dues of retired members (党费, rules of 2008).

The monthly due is 0.5% of the monthly pension when the pension is at most 5,000 yuan and 1%
when above, on the whole pension (a bracket, not a marginal rate), rounded to the cent half up.
"""
from decimal import ROUND_HALF_UP, Decimal

THRESHOLD = Decimal("5000")
LOW_RATE = Decimal("0.005")
HIGH_RATE = Decimal("0.01")
MAX_MONTHS_PER_PAYMENT = 6


def monthly_dues(pension: Decimal) -> Decimal:
    rate = LOW_RATE if pension <= THRESHOLD else HIGH_RATE
    return (pension * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
