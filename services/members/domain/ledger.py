"""Read views of the ledger, in the words and labels a branch secretary uses. Pure."""
from datetime import date
from typing import Any

from services.members.domain import labels as L
from services.members.domain.dues import months_between
from services.members.domain.member import Member


def age_on(birth_date: str | None, day: str) -> int | None:
    if not birth_date:
        return None
    b, d = date.fromisoformat(birth_date), date.fromisoformat(day)
    return d.year - b.year - ((d.month, d.day) < (b.month, b.day))


def summary(m: Member, as_of: str) -> dict[str, Any]:
    """One row of a branch's member list."""
    p, status = m.profile, m.status_on(as_of)
    return {
        "member_id": m.member_id, "name": p.get("name"), "branch_id": m.branch_id,
        "gender": p.get("gender"), "gender_label": L.label(L.GENDER, p.get("gender")),
        "age": age_on(p.get("birth_date"), as_of), "status": status, "status_label": L.STATUS[status],
        "transfer_suggested": m.transfer_suggested_on(as_of),
        "health": p.get("health"), "health_label": L.label(L.HEALTH, p.get("health")),
        "lives_alone": bool(p.get("lives_alone")), "phone": p.get("phone"),
        "preferred_channel": p.get("preferred_channel"),
        "preferred_channel_label": L.label(L.CHANNEL, p.get("preferred_channel")),
        "specialist_id": m.specialist_id, "specialist_name": (m.specialist or {}).get("name"),
        "registered_on": m.registered_on,
        "monthly_dues": _money(m.dues_for(int(as_of[:4]))),
    }


def dues_year(m: Member, year: int, payments: list[dict]) -> dict[str, Any]:
    """Each month of `year` the member owed dues (from registration, until death or leaving),
    paid or not, and the payments made for them."""
    first = max(f"{year:04d}-01", m.registered_on[:7])
    ends = [d[:7] for d in (m.died_on, m.transferred_on) if d]
    last = min([f"{year:04d}-12", *ends])
    months = months_between(first, last) if first <= last else []
    due = m.dues_for(year)
    paid = set(m.paid_months)
    rows = [{"month": mo, "due": _money(due), "paid": mo in paid} for mo in months]
    mine = [p for p in payments if any(mo[:4] == f"{year:04d}" for mo in p.get("months", []))]
    return {
        "year": year, "monthly_dues": _money(due), "months": rows,
        "paid_months": [r["month"] for r in rows if r["paid"]],
        "unpaid_months": [r["month"] for r in rows if not r["paid"]],
        "payments": [{**p, "comparison_label": L.label(L.COMPARISON, p.get("comparison"))}
                     for p in sorted(mine, key=lambda p: (p.get("paid_on", ""), p.get("payment_id", "")))],
    }


def ledger(m: Member, *, as_of: str, year: int, branch_name: str | None, payments: list[dict]) -> dict[str, Any]:
    """One member's whole story: profile, status history, away and exemptions, dues, evaluations, awards."""
    profile = {**m.profile, "gender_label": L.label(L.GENDER, m.profile.get("gender")),
               "health_label": L.label(L.HEALTH, m.profile.get("health")),
               "preferred_channel_label": L.label(L.CHANNEL, m.profile.get("preferred_channel"))}
    status = m.status_on(as_of)
    return {
        **summary(m, as_of),
        "as_of": as_of, "branch_name": branch_name, "org_path": m.org_path,
        "status": status, "status_label": L.STATUS[status],
        "profile": profile,
        "died_on": m.died_on, "transferred_on": m.transferred_on, "destination": m.destination,
        "specialist": m.specialist,
        "status_history": [{**h, "change_label": L.label(L.CHANGE, h["change"]),
                            "status_label": L.label(L.STATUS, h["status"])} for h in m.history],
        "away_periods": [{**a, "reason_label": L.label(L.AWAY_REASON, a["reason"])} for a in m.away],
        "exemptions": m.exemptions,
        "pension_history": m.pensions,
        "dues": dues_year(m, year, payments),
        "evaluations": [{**e, "result_label": L.label(L.EVALUATION, e["result"])}
                        for e in sorted(m.evaluations, key=lambda e: e["year"])],
        "awards": [{**a, "category_label": L.label(L.AWARD, a["category"])} for a in m.awards],
        "trainings": m.trainings,
    }


def _money(v) -> str | None:
    return f"{v:.2f}" if v is not None else None
