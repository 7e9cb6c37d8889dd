"""What the figure store does, in memory: a subtree's contributions summed to the reading day."""
from collections import defaultdict

from services.reporting.domain.contributions import DAY_SERIES, Contribution, ledger_contribution
from services.reporting.domain.report import Sums
from shared.periods import Period


def ledgers(activities: list[dict], branches: dict[str, dict]) -> list[Contribution]:
    """Held, not cancelled activities → each branch's meeting ledger contribution."""
    meetings = defaultdict(list)
    for i, a in enumerate(activities):
        if a.get("held") and not a.get("cancelled"):
            for b in a["branch_ids"]:
                meetings[b].append({"activity_id": f"a{i}", "kind": a["kind"], "day": a["held_on"]})
    return [ledger_contribution(b, meetings[b], has_committee=o.get("has_committee", False),
                                party_groups=o.get("party_groups", 0)) for b, o in branches.items()]


def subtree_sums(contributions: list[Contribution], branches: dict[str, dict], period: Period, day: str) -> Sums:
    sums = Sums()
    for c in contributions:
        for (series, branch, d), fields in c.items():
            if d > day or branch not in branches:
                continue
            for f, v in fields.items():
                if series == DAY_SERIES and f == "died":
                    sums.died += v if d >= period.start.isoformat() else 0
                elif series == DAY_SERIES:
                    sums.day[f] = sums.day.get(f, 0) + v
                elif series == period.text:
                    sums.period[f] = sums.period.get(f, 0) + v
    return sums
