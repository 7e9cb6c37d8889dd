"""Required frequencies of organisational life (组织生活), as a rule set a district can configure.

The default is the national table of domain.md. A district may override it with the setting
`org_life_rules` (JSON: a list of {"kind", "per", "times", "applies"}), e.g. party group
meetings twice a month or an organisational life meeting every half year. Activities (the
planner) and reporting (compliance) both count from here, so they never disagree.
"""
import json
from dataclasses import dataclass
from typing import Literal

from shared.periods import Period

Per = Literal["month", "quarter", "half_year", "year"]
Applies = Literal["all", "committee", "party_groups"]


@dataclass(frozen=True)
class Requirement:
    kind: str
    per: Per
    times: int = 1
    applies: Applies = "all"


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
    """The district's rule set from its JSON setting, or the default when unset."""
    if not text:
        return DEFAULT_RULES
    return tuple(Requirement(**r) for r in json.loads(text))


def units_in(per: Per, period: Period) -> int:
    """How many whole `per` units a period contains: months, quarters, half years or years."""
    months = len(period.months)
    if per == "month":
        return months
    size = {"quarter": 3, "half_year": 6, "year": 12}[per]
    # Periods are calendar-aligned, so whole units are simply months // size.
    return months // size


def required(period: Period, *, has_committee: bool, party_groups: int,
             rules: tuple[Requirement, ...] = DEFAULT_RULES) -> dict[str, int]:
    """Meetings of each kind a branch must hold in a period (0 where a kind does not apply)."""
    out: dict[str, int] = {}
    for r in rules:
        applies = r.applies == "all" or (r.applies == "committee" and has_committee) or (
            r.applies == "party_groups" and party_groups > 0)
        out[r.kind] = out.get(r.kind, 0) + (r.times * units_in(r.per, period) if applies else 0)
    return out


def compliance(required_: dict[str, int], held: dict[str, int]) -> float:
    """Σ min(held, required) ÷ Σ required; 1 when nothing is required (contract)."""
    need = sum(required_.values())
    if need == 0:
        return 1.0
    return sum(min(held.get(k, 0), n) for k, n in required_.items()) / need
