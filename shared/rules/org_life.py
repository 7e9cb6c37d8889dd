"""Required frequencies of organisational life (组织生活), as a rule set a district can configure.

The default is the national table of domain.md. A district may override it with the setting
`ORG_LIFE_RULES` (JSON: a list of {"kind", "per", "times", "applies"}), e.g. party group
meetings twice a month or an organisational life meeting every half year. Activities (the
planner) and reporting (compliance) both count from here, so they never disagree.
"""
import calendar
import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from shared.contracts.codes import ORG_LIFE_KINDS
from shared.periods import Period

if TYPE_CHECKING:
    from shared.settings import Settings

Per = Literal["month", "quarter", "half_year", "year"]
Applies = Literal["all", "committee", "party_groups"]
PERS: tuple[str, ...] = Per.__args__  # type: ignore[attr-defined]
APPLIES: tuple[str, ...] = Applies.__args__  # type: ignore[attr-defined]
_MONTHS_PER = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}
SETTING = "ORG_LIFE_RULES"


@dataclass(frozen=True)
class Requirement:
    kind: str
    per: Per
    times: int = 1
    applies: Applies = "all"

    def __post_init__(self) -> None:
        # A district's JSON setting is checked when the service starts, not when a report is wrong.
        if self.kind not in ORG_LIFE_KINDS:
            raise ValueError(f"unknown kind of organisational life {self.kind!r} (known: {', '.join(ORG_LIFE_KINDS)})")
        if self.per not in PERS:
            raise ValueError(f"per must be one of {', '.join(PERS)}, not {self.per!r}")
        if not isinstance(self.times, int) or isinstance(self.times, bool) or not 1 <= self.times <= 31:
            raise ValueError(f"times must be a whole number from 1 to 31, not {self.times!r}")
        if self.applies not in APPLIES:
            raise ValueError(f"applies must be one of {', '.join(APPLIES)}, not {self.applies!r}")

    def applies_to(self, *, has_committee: bool, party_groups: int) -> bool:
        return self.applies == "all" or (self.applies == "committee" and has_committee) or (
            self.applies == "party_groups" and party_groups > 0)

    def times_for(self, *, has_committee: bool, party_groups: int) -> int:
        """Meetings a branch must hold per unit (month, quarter…): a rule for party groups is a
        rule for each group (a branch of three groups holds three group meetings a month)."""
        if not self.applies_to(has_committee=has_committee, party_groups=party_groups):
            return 0
        return self.times * (party_groups if self.applies == "party_groups" else 1)


DEFAULT_RULES: tuple[Requirement, ...] = (
    Requirement("branch_assembly", "quarter"),
    Requirement("committee_meeting", "month", applies="committee"),
    Requirement("group_meeting", "month", applies="party_groups"),
    Requirement("party_lecture", "quarter"),
    Requirement("themed_party_day", "month"),
    Requirement("org_life_meeting", "year"),
    Requirement("democratic_evaluation", "year"),
)


def load_rules(text: str | None) -> tuple[Requirement, ...]:
    """The district's rule set from its JSON setting, or the default when unset.

    Raises ValueError, naming the rule at fault, when the setting is not a valid rule set."""
    if not text:
        return DEFAULT_RULES
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{SETTING} is not JSON: {exc}") from None
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{SETTING} must be a non-empty JSON list of rules")
    rules = []
    for i, r in enumerate(raw):
        if not isinstance(r, dict):
            raise ValueError(f"{SETTING}[{i}] must be an object")
        try:
            rules.append(Requirement(**r))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{SETTING}[{i}]: {exc}") from None
    return tuple(rules)


def configured_rules(settings: "Settings") -> tuple[Requirement, ...]:
    """The rule set of this deployment's district (setting `ORG_LIFE_RULES`); read at start-up."""
    return load_rules(settings.org_life_rules)


def units_in(per: Per, period: Period) -> int:
    """How many whole `per` units a period contains: months, quarters, half years or years."""
    # Periods are calendar-aligned, so whole units are simply months // size.
    return len(period.months) // _MONTHS_PER[per]


@dataclass(frozen=True)
class Unit:
    """One whole month, quarter, half year or year inside a period: where a requirement falls due."""

    label: str  # 2026-03 · 2026-Q1 · 2026-H1 · 2026
    start: date
    end: date  # inclusive


def units(per: Per, period: Period) -> list[Unit]:
    """The whole `per` units of a period, in order (empty when the period is shorter than one)."""
    size = _MONTHS_PER[per]
    out = []
    months = period.months
    for i in range(0, len(months) - size + 1, size):
        y, m = int(months[i][:4]), int(months[i][5:])
        label = {"month": months[i], "quarter": f"{y}-Q{(m + 2) // 3}", "half_year": f"{y}-H{(m + 5) // 6}",
                 "year": f"{y}"}[per]
        last = months[i + size - 1]
        ly, lm = int(last[:4]), int(last[5:])
        out.append(Unit(label, date(y, m, 1), date(ly, lm, calendar.monthrange(ly, lm)[1])))
    return out


def required(period: Period, *, has_committee: bool, party_groups: int,
             rules: tuple[Requirement, ...] = DEFAULT_RULES) -> dict[str, int]:
    """Meetings of each kind a branch must hold in a period: every kind of organisational life,
    0 where a kind does not apply or the district's rule set leaves it out; group meetings per
    party group (contract)."""
    return dict(_required(period, bool(has_committee), party_groups, tuple(rules)))


@lru_cache(maxsize=4096)
def _required(period: Period, has_committee: bool, party_groups: int,
              rules: tuple[Requirement, ...]) -> tuple[tuple[str, int], ...]:
    """`required`, remembered: a pure function of immutable arguments (a fresh dict per call)."""
    out: dict[str, int] = dict.fromkeys(ORG_LIFE_KINDS, 0)
    for r in rules:
        n = r.times_for(has_committee=has_committee, party_groups=party_groups)
        out[r.kind] = out.get(r.kind, 0) + n * units_in(r.per, period)
    return tuple(out.items())


def compliance(required_: dict[str, int], held: dict[str, int]) -> float:
    """Σ min(held, required) ÷ Σ required; 1 when nothing is required (contract)."""
    need = sum(required_.values())
    if need == 0:
        return 1.0
    return sum(min(held.get(k, 0), n) for k, n in required_.items()) / need
