"""The report of the contract, assembled from the summed deltas of the branches of a subtree.

Pure: the adapters sum the stored deltas; this module turns sums into the contract's figures.
Rates are computed from the sums over the subtree, never averaged.
"""
from dataclasses import dataclass, field
from decimal import Decimal

from services.reporting.domain import days as d
from shared.periods import Period
from shared.rules.org_life import DEFAULT_RULES, Requirement, compliance, required

DAY_FIELDS = ("reg", "away", "exempt", "exempt_res", "overdue")
# domain.md, five-star grading (a district setting; this is the default).
WEIGHTS = {"compliance": 40, "participation": 20, "dues": 20, "visited": 10, "ack": 10}
STAR_THRESHOLDS = ((90, 5), (80, 4), (70, 3), (60, 2))


@dataclass
class BranchSums:
    """One branch: its settings and its deltas summed up to the reading day."""

    branch_id: str
    has_committee: bool = False
    party_groups: int = 0
    day: dict[str, int] = field(default_factory=dict)  # statuses on the reading day
    died: int = 0  # deaths within the period, up to the reading day
    period: dict[str, int] = field(default_factory=dict)  # the period's counters
    merged: bool = False  # merged away before the period: nothing is required of it


def reading_day(period: Period, as_of: str) -> str:
    """Figures are as of the period's last day, or `as_of` if earlier (contract)."""
    return min(period.end.isoformat(), as_of)


def months_elapsed(period: Period, day: str) -> int:
    """Months of the period up to and including the reading day's month."""
    return sum(1 for m in period.months if m <= d.month_of(day))


def ratio(n: int | float, over: int | float, empty: float = 0.0) -> float:
    return round(n / over, 4) if over else empty


def stars_for(score: float) -> int:
    return next((s for t, s in STAR_THRESHOLDS if score >= t), 1)


def organisational_life(branches: list[BranchSums], period: Period,
                        rules: tuple[Requirement, ...] = DEFAULT_RULES) -> dict:
    kinds = [r.kind for r in rules]
    out = {k: {"required": 0, "held": 0} for k in dict.fromkeys(kinds)}
    met, need = 0, 0
    for b in branches:
        req = {k: 0 for k in out} if b.merged else required(
            period, has_committee=b.has_committee, party_groups=b.party_groups, rules=rules)
        held = {k: b.period.get(f"held_{k}", 0) for k in out}
        for k in out:
            out[k]["required"] += req.get(k, 0)
            out[k]["held"] += held[k]
        # min(held, required) per branch: one branch's extra meetings never cover another's.
        need += sum(req.values())
        met += round(compliance(req, held) * sum(req.values()))
    out["compliance"] = ratio(met, need, 1.0)
    return out


def build(branches: list[BranchSums], period: Period, day: str, *, stars: int | None = None,
          rules: tuple[Requirement, ...] = DEFAULT_RULES) -> dict:
    def total(where: str, f: str) -> int:
        return sum(getattr(b, where).get(f, 0) for b in branches)

    registered, away, exempt = total("day", "reg"), total("day", "away"), total("day", "exempt")
    resident = registered - away
    active, active_res = total("period", "active"), total("period", "active_res")
    exempt_res = total("day", "exempt_res")
    due = registered * months_elapsed(period, day) - total("period", "due_skip")
    paid = total("period", "paid")
    sent, acked = total("period", "sent"), total("period", "acked")
    visited = total("period", "visited")
    life = organisational_life(branches, period, rules)
    report = {
        "members": {"registered": registered, "resident": resident, "away": away, "exempt": exempt,
                    "deceased": sum(b.died for b in branches)},
        "participation": {"active": active, "rate": ratio(active, registered - exempt),
                          "resident_rate": ratio(active_res, resident - exempt_res)},
        "organisational_life": life,
        "dues": {"member_months_due": due, "member_months_paid": paid, "rate": ratio(paid, due),
                 "amount_paid": f"{Decimal(total('period', 'cents')) / 100:.2f}"},
        "volunteer_hours": hours_text(total("period", "hours")),
        "notices": {"sent": sent, "acknowledged": acked, "ack_rate": ratio(acked, sent)},
        "visits": {"members_visited": visited, "overdue": total("day", "overdue")},
    }
    rates = {  # for the score, a rate with nothing to measure counts as 1 (domain.md)
        "compliance": life["compliance"], "participation": ratio(active, registered - exempt, 1.0),
        "dues": ratio(paid, due, 1.0), "visited": ratio(visited, registered, 1.0), "ack": ratio(acked, sent, 1.0),
    }
    score = round(sum(WEIGHTS[k] * v for k, v in rates.items()), 2)
    report.update({"score": score, "recommended_stars": stars_for(score), "stars": stars})
    return report


def hours_text(hundredths: int) -> str:
    value = Decimal(hundredths) / 100
    return str(value.quantize(Decimal(1))) if value == value.to_integral() else str(value.normalize())
