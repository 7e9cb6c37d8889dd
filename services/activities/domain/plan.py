"""The planner: for one branch and period, what the rules require, what is scheduled, what is
held, and what is still missing — kind by kind and month (quarter, half year, year) by month.

`required` and `held` are counted exactly as reporting counts them (the contract's
definitions), so the planner and the report agree. `missing` is stricter: a rule "once a
month" is met month by month, so three committee meetings in January leave February and
March missing even though the quarter's total is reached.
"""
from dataclasses import dataclass

from shared.contracts.codes import ORG_LIFE_KINDS
from shared.periods import Period
from shared.rules import labels
from shared.rules.org_life import Requirement, compliance, required, units


@dataclass(frozen=True)
class Planned:
    """An activity naming the branch, as far as the planner cares."""

    activity_id: str
    kind: str
    title: str
    held_on: str
    status: str  # scheduled · held · cancelled


def _within(a: Planned, start: str, end: str) -> bool:
    return start <= a.held_on <= end


def plan(period: Period, *, has_committee: bool, party_groups: int, rules: tuple[Requirement, ...],
         activities: list[Planned]) -> dict:
    start, end = period.start.isoformat(), period.end.isoformat()
    mine = sorted((a for a in activities if _within(a, start, end)), key=lambda a: (a.held_on, a.activity_id))
    need = required(period, has_committee=has_committee, party_groups=party_groups, rules=rules)
    kinds = list(dict.fromkeys([r.kind for r in rules] + list(ORG_LIFE_KINDS)))
    rows, held_totals = [], {}
    for kind in kinds:
        of_kind = [a for a in mine if a.kind == kind]
        held = sum(a.status == "held" for a in of_kind)
        scheduled = sum(a.status == "scheduled" for a in of_kind)
        held_totals[kind] = held
        row_units = []
        for r in (r for r in rules if r.kind == kind):
            want = r.times_for(has_committee=has_committee, party_groups=party_groups)
            for u in units(r.per, period):
                us, ue = u.start.isoformat(), u.end.isoformat()
                h = sum(a.status == "held" and _within(a, us, ue) for a in of_kind)
                s = sum(a.status == "scheduled" and _within(a, us, ue) for a in of_kind)
                row_units.append({"unit": u.label, "per": r.per, "start": us, "end": ue, "required": want,
                                  "held": h, "scheduled": s, "missing": max(0, want - h),
                                  "to_schedule": max(0, want - h - s)})
        rule_texts = [{"per": r.per, "times": r.times, "applies": r.applies,
                       "text": f"{'每个党小组' if r.applies == 'party_groups' else ''}{labels.PERS[r.per]}{r.times}次",
                       "applies_here":
                       r.applies_to(has_committee=has_committee, party_groups=party_groups)}
                      for r in rules if r.kind == kind]
        missing = sum(u["missing"] for u in row_units)
        to_schedule = sum(u["to_schedule"] for u in row_units)
        rows.append({
            "kind": kind, "label": labels.ACTIVITY_KINDS[kind], "rules": rule_texts,
            "required": need.get(kind, 0), "held": held, "scheduled": scheduled, "missing": missing,
            "to_schedule": to_schedule, "status": (st := _status(need.get(kind, 0), missing, to_schedule)),
            "status_label": labels.PLAN_STATUSES[st],
            "units": row_units,
            "activities": [{"activity_id": a.activity_id, "title": a.title, "held_on": a.held_on,
                            "status": a.status} for a in of_kind],
        })
    return {
        "period": period.text, "start": start, "end": end,
        "kinds": rows,
        "totals": {"required": sum(need.values()), "held": sum(min(held_totals.get(k, 0), n) for k, n in need.items()),
                   "missing": sum(r["missing"] for r in rows), "to_schedule": sum(r["to_schedule"] for r in rows)},
        "compliance": round(compliance(need, held_totals), 4),
    }


def _status(need: int, missing: int, to_schedule: int) -> str:
    """not_required · done · scheduled (every gap has a meeting planned) · missing (gaps left)."""
    if need == 0:
        return "not_required"
    if missing == 0:
        return "done"
    return "scheduled" if to_schedule == 0 else "missing"
