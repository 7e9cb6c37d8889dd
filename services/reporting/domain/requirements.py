"""What a branch must hold in a period, as reports count it (contract: `required`).

The district's rule set (shared/rules/org_life.py) says how often, and counts a rule for party
groups once per group, as the activities planner does: this is that count, under reporting's name.
"""
from shared.rules.org_life import required as branch_required

__all__ = ["branch_required"]
