"""Calendar arithmetic the simulator's intended alerts share."""
from datetime import date, timedelta


def add_months(d: date, n: int) -> date:
    """The same day `n` months later, or the month's last day when it has none (31 March + 1: 30 April)."""
    y, m = divmod(d.month - 1 + n, 12)
    y, m = d.year + y, m + 1
    last = (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)).day
    return date(y, m, min(d.day, last))
