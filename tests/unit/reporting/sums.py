"""What the figures adapter does, in memory: sum contributions of days ≤ the reading day."""
from collections import defaultdict

from services.reporting.domain.contributions import DAY_SERIES, Contribution
from services.reporting.domain.report import BranchSums
from shared.periods import Period


def branch_sums(contributions: list[Contribution], branches: dict[str, dict], period: Period,
                day: str) -> list[BranchSums]:
    status, died, counters = defaultdict(lambda: defaultdict(int)), defaultdict(int), defaultdict(lambda: defaultdict(int))
    for c in contributions:
        for (series, branch, d), fields in c.items():
            if d > day:
                continue
            if series == DAY_SERIES:
                for f, v in fields.items():
                    if f == "died":
                        died[branch] += v if d >= period.start.isoformat() else 0
                    else:
                        status[branch][f] += v
            elif series == period.text:
                for f, v in fields.items():
                    counters[branch][f] += v
    return [BranchSums(b, o.get("has_committee", False), o.get("party_groups", 0), dict(status[b]), died[b],
                       dict(counters[b])) for b, o in branches.items()]
