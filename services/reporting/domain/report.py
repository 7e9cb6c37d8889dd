"""The report of the contract, assembled from the summed deltas of an organisation's subtree.

Pure: the adapters read the sums (precomputed per organisation); this module turns them into
the contract's figures. Rates are computed from the sums over the subtree, never averaged.
"""
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from services.reporting.domain import days as d
from shared.periods import Period
from shared.contracts.codes import ORG_LIFE_KINDS
from shared.rules.org_life import DEFAULT_RULES, Requirement
from services.reporting.domain.requirements import branch_required
from services.reporting.settings import UNSET, records_start_or

# domain.md, five-star grading (a district setting; this is the default).
WEIGHTS = {"compliance": 40, "participation": 20, "dues": 20, "visited": 10, "ack": 10}
STAR_THRESHOLDS = ((90, 5), (80, 4), (70, 3), (60, 2))
# Gaps cap the recommendation whatever the score (domain.md): the highest stars a branch with
# the gap may be recommended.
CAPS = {"no_secretary": 3, "branch_too_small": 3, "missed_meetings": 4}
GRADING_SETTING = "REPORTING_GRADING"


@dataclass(frozen=True)
class Grading:
    """The district's five-star rule set: weights of each rate in the score (0–1 rates), the
    lowest score for each number of stars, and the caps of the gaps (domain.md's default)."""

    weights: tuple[tuple[str, float], ...] = tuple(WEIGHTS.items())
    thresholds: tuple[tuple[float, int], ...] = STAR_THRESHOLDS
    caps: tuple[tuple[str, int], ...] = tuple(CAPS.items())

    def __post_init__(self) -> None:
        if set(dict(self.weights)) != set(WEIGHTS):
            raise ValueError(f"weights must name exactly {', '.join(WEIGHTS)}")
        if any(not 1 <= s <= 5 for _t, s in self.thresholds):
            raise ValueError("thresholds give stars from 1 to 5")
        unknown = set(dict(self.caps)) - set(CAPS)
        if unknown or any(not 1 <= s <= 5 for _k, s in self.caps):
            raise ValueError(f"caps name gaps among {', '.join(CAPS)}, each with stars from 1 to 5")

    def stars(self, score: float, gaps: tuple[str, ...] | frozenset[str] = ()) -> int:
        stars = next((s for t, s in sorted(self.thresholds, reverse=True) if score >= t), 1)
        caps = dict(self.caps)
        return min([stars, *(caps[g] for g in gaps if g in caps)])


DEFAULT_GRADING = Grading()


def load_grading(text: str | None) -> Grading:
    """The district's grading from its JSON setting (REPORTING_GRADING), e.g.
    `{"weights": {"compliance": 50, ...}, "thresholds": {"5": 92, "4": 82, ...}, "caps": {"no_secretary": 2}}`;
    what it leaves out keeps the default. Raises ValueError naming what is wrong."""
    if not text:
        return DEFAULT_GRADING
    import json
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{GRADING_SETTING} is not JSON: {exc}") from None
    if not isinstance(raw, dict) or set(raw) - {"weights", "thresholds", "caps"}:
        raise ValueError(f"{GRADING_SETTING} must be an object of weights, thresholds and caps")
    try:
        weights = {**WEIGHTS, **raw.get("weights", {})}
        thresholds = dict(raw["thresholds"]) if "thresholds" in raw else {str(s): t for t, s in STAR_THRESHOLDS}
        caps = {**CAPS, **raw.get("caps", {})}
        return Grading(tuple((k, float(v)) for k, v in weights.items()),
                       tuple((float(t), int(s)) for s, t in thresholds.items()),
                       tuple((k, int(v)) for k, v in caps.items()))
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{GRADING_SETTING}: {exc}") from None


@dataclass
class Sums:
    """A subtree's deltas summed up to the reading day."""

    day: dict[str, int] = field(default_factory=dict)  # statuses on the reading day
    died: int = 0  # deaths within the period, up to the reading day
    period: dict[str, int] = field(default_factory=dict)  # the period's counters


def reading_day(period: Period, as_of: str) -> str:
    """Figures are as of the period's last day, or `as_of` if earlier (contract)."""
    return min(period.end.isoformat(), as_of)


def months_elapsed(period: Period, day: str, records_start: str | None = None) -> int:
    """Months of the period up to and including the reading day's month, none before the month
    the records begin (contract, RECORDS_START): the months a registered member owes."""
    first = records_start[:7] if records_start else ""
    return sum(1 for m in period.months if first <= m <= d.month_of(day))


def ratio(n: int | float, over: int | float, empty: float = 0.0) -> float:
    return round(n / over, 4) if over else empty


def stars_for(score: float) -> int:
    return next((s for t, s in STAR_THRESHOLDS if score >= t), 1)


def settings_key(has_committee: bool, party_groups: int) -> str:
    """What decides a branch's requirements, as a field name: `c2` (a committee, two groups), `n0`."""
    return f"{'c' if has_committee else 'n'}{party_groups}"


def subtree_required(branches: list[dict], period: Period,
                     rules: tuple[Requirement, ...] = DEFAULT_RULES) -> dict[str, int]:
    """Meetings of each kind the subtree's branches must hold; none of a branch merged away
    before the period began."""
    alike: Counter[str] = Counter()
    for b in branches:
        if not (b.get("merged_on") and b["merged_on"] <= period.start.isoformat()):
            alike[settings_key(bool(b.get("has_committee", False)), b.get("party_groups", 0))] += 1
    return _required_of(alike, period, rules)


def counted_required(branches: dict[str, int], merged: dict[str, dict[str, int]], period: Period,
                     rules: tuple[Requirement, ...] = DEFAULT_RULES) -> dict[str, int]:
    """`subtree_required` from counts: the subtree's branches by `settings_key`, and by day of
    their merge the branches merged away (kept for each organisation, adapters/figure_store.py)."""
    alike: Counter[str] = Counter(branches)
    for day, keys in merged.items():
        if day <= period.start.isoformat():
            alike.subtract(keys)
    return _required_of(alike, period, rules)


def _required_of(alike: Counter, period: Period, rules: tuple[Requirement, ...]) -> dict[str, int]:
    out = dict.fromkeys(ORG_LIFE_KINDS, 0)  # every kind, whatever the district's rules name
    for key, n in alike.items():  # a district's hundreds of branches share a few settings
        if n:
            for k, times in _required(period, key[0] == "c", int(key[1:]), rules):
                out[k] += n * times
    return out


@lru_cache(maxsize=1024)
def _required(period: Period, has_committee: bool, party_groups: int,
              rules: tuple[Requirement, ...]) -> tuple[tuple[str, int], ...]:
    """`required`, remembered (a pure function of its arguments)."""
    return tuple(branch_required(period, has_committee=has_committee, party_groups=party_groups, rules=rules).items())


def organisational_life(sums: Sums, required_: dict[str, int]) -> dict:
    out = {k: {"required": n, "held": sums.period.get(f"held_{k}", 0)} for k, n in required_.items()}
    # `met_<kind>` is Σ over branches of min(held, required), kept per branch (contributions.py):
    # one branch's extra meetings never cover another's.
    met = sum(min(sums.period.get(f"met_{k}", 0), n) for k, n in required_.items())
    out["compliance"] = ratio(met, sum(required_.values()), 1.0)
    return out


def build(sums: Sums, required_: dict[str, int], period: Period, day: str, *, stars: int | None = None,
          records_start=UNSET, gaps: tuple[str, ...] | frozenset[str] = (), grading: Grading | None = None) -> dict:
    """`gaps`: the kinds of the branch's gap alerts on the reading day (no_secretary,
    branch_too_small, missed_meetings), which cap `recommended_stars`; `grading`: the district's
    (default domain.md's)."""
    grading = grading or DEFAULT_GRADING
    s, p = sums.day, sums.period
    registered, away, exempt = s.get("reg", 0), s.get("away", 0), s.get("exempt", 0)
    resident = registered - away
    active, rated = p.get("active", 0), p.get("active_ne", 0)  # rated: active and not exempt
    due = registered * months_elapsed(period, day, records_start_or(records_start)) - p.get("due_skip", 0)
    paid, sent, acked, visited = p.get("paid", 0), p.get("sent", 0), p.get("acked", 0), p.get("visited", 0)
    life = organisational_life(sums, required_)
    report = {
        "members": {"registered": registered, "resident": resident, "away": away, "exempt": exempt,
                    "deceased": sums.died},
        "participation": {"active": active, "rate": ratio(rated, registered - exempt),
                          "resident_rate": ratio(p.get("active_res_ne", 0), resident - s.get("exempt_res", 0))},
        "organisational_life": life,
        "dues": {"member_months_due": due, "member_months_paid": paid, "rate": ratio(paid, due),
                 "amount_paid": f"{Decimal(p.get('cents', 0)) / 100:.2f}"},
        "volunteer_hours": hours_text(p.get("hours", 0)),
        "notices": {"sent": sent, "acknowledged": acked, "ack_rate": ratio(acked, sent)},
        "visits": {"members_visited": visited, "overdue": s.get("overdue", 0)},
    }
    rates = {  # for the score, a rate with nothing to measure counts as 1 (domain.md)
        "compliance": life["compliance"], "participation": ratio(rated, registered - exempt, 1.0),
        "dues": ratio(paid, due, 1.0), "visited": ratio(visited, registered, 1.0), "ack": ratio(acked, sent, 1.0),
    }
    weights = dict(grading.weights)
    score = round(sum(weights[k] * v for k, v in rates.items()), 2)
    report.update({"score": score, "recommended_stars": grading.stars(score, gaps), "stars": stars})
    return report


def hours_text(hundredths: int) -> str:
    value = Decimal(hundredths) / 100
    return str(value.quantize(Decimal(1))) if value == value.to_integral() else str(value.normalize())
