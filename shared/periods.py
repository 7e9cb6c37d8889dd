"""Calendar periods of the contract: `YYYY-MM`, `YYYY-Qn` or `YYYY`, in Asia/Shanghai."""
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
_PERIOD = re.compile(r"(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?")


@dataclass(frozen=True)
class Period:
    text: str
    kind: str  # month · quarter · year
    start: date
    end: date  # inclusive

    @property
    def months(self) -> list[str]:
        return list(_months(self.start, self.end))

    def whole_quarters(self) -> int:
        return {"month": 0, "quarter": 1, "year": 4}[self.kind]


@lru_cache(maxsize=4096)
def _months(start: date, end: date) -> tuple[str, ...]:
    """The months from `start`'s to `end`'s, remembered (reports and contributions ask often)."""
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return tuple(out)


@lru_cache(maxsize=4096)
def parse_period(text: str) -> Period:
    """The period a text names (remembered: a Period is immutable)."""
    m = _PERIOD.fullmatch(text or "")
    if not m:
        raise ValueError("period must be YYYY-MM, YYYY-Qn or YYYY")
    year = int(m.group(1))
    if m.group(2):
        month = int(m.group(2))
        return Period(text, "month", date(year, month, 1), _month_end(year, month))
    if m.group(3):
        q = int(m.group(3))
        return Period(text, "quarter", date(year, 3 * q - 2, 1), _month_end(year, 3 * q))
    return Period(text, "year", date(year, 1, 1), date(year, 12, 31))


def _month_end(year: int, month: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return nxt - timedelta(days=1)


def today() -> date:
    return datetime.now(SHANGHAI).date()


def local_date(moment: datetime) -> date:
    """The Asia/Shanghai calendar date of an instant (an activity is held on its start's date)."""
    return moment.astimezone(SHANGHAI).date()
