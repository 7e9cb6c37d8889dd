"""The way into the Party (发展党员, issue 13): the stages in order and the probation's year, one rule
for members (which refuses what breaks it) and reporting (which derives the alert on read)."""
from datetime import date, timedelta

ORDER = ("applicant", "activist", "development_target", "probationary", "full_member")
PIPELINE = ORDER[:4]  # the stages counted as on the way (a full member is in the ledger)


def anniversary(day: str, years: int = 1) -> str:
    d = date.fromisoformat(day)
    try:
        return d.replace(year=d.year + years).isoformat()
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28).isoformat()


def stage_on(history: list[dict], day: str) -> str | None:
    """The stage on `day` from the changes {stage, on, seq}, in order (None before the application)."""
    last = None
    for h in sorted(history, key=lambda h: (h["on"], h.get("seq", 0))):
        if h["on"] <= day:
            last = h["stage"]
    return last


def probation_overdue_since(history: list[dict], day: str) -> str | None:
    """The day after the probation ended (预备期满), when the applicant is still probationary on `day`
    past it: the branch should have decided on the 转正."""
    if stage_on(history, day) != "probationary":
        return None
    began = max(h["on"] for h in history if h["stage"] == "probationary" and h["on"] <= day)
    overdue = (date.fromisoformat(anniversary(began)) + timedelta(days=1)).isoformat()
    return overdue if overdue <= day else None
