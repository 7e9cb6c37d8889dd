"""What a branch must hold in a period, as reports count it (contract: `required`).

The district's rule set (shared/rules/org_life.py) says how often; a rule for party groups is a
rule for each group: a branch of three groups must hold three group meetings a month.
"""
from shared.periods import Period
from shared.rules.org_life import DEFAULT_RULES, Requirement, required


def branch_required(period: Period, *, has_committee: bool, party_groups: int,
                    rules: tuple[Requirement, ...] = DEFAULT_RULES) -> dict[str, int]:
    per_branch = tuple(r for r in rules if r.applies != "party_groups")
    per_group = tuple(r for r in rules if r.applies == "party_groups")
    out = required(period, has_committee=has_committee, party_groups=party_groups, rules=per_branch)
    if per_group and party_groups > 0:
        for kind, n in required(period, has_committee=has_committee, party_groups=party_groups,
                                rules=per_group).items():
            out[kind] = out.get(kind, 0) + n * party_groups
    return out
